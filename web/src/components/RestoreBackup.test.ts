import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import { ApiError } from '@/api/http'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ status: vi.fn(), stage: vi.fn(), discard: vi.fn() }))
const shell = vi.hoisted(() => ({ inTauri: vi.fn(() => false), restartSidecar: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, restore: api }))
vi.mock('@/api/shell', () => shell)
const adopt = vi.fn()
vi.mock('@/stores/connection', () => ({ useConnectionStore: () => ({ adopt }) }))

import RestoreBackup from './RestoreBackup.vue'

const staged = { files: 3, bytes: 2048, schema_revision: '0015', created_at: '2026-11-30T06:00:00+00:00', app_version: '0.1.0', conversations: 4, agents: 2 }

function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  return mount(RestoreBackup, { global: { plugins: [i18n, createPinia()] } })
}

async function choose(wrapper: ReturnType<typeof show>) {
  const input = wrapper.find('[data-testid="restore-file"]')
  Object.defineProperty(input.element, 'files', { value: [new File(['PK'], 'sage-backup.zip')], configurable: true })
  await input.trigger('change')
  await flushPromises()
}

beforeEach(() => {
  Object.values(api).forEach((fn) => fn.mockReset())
  api.status.mockResolvedValue({ pending: false })
  shell.inTauri.mockReturnValue(false)
  adopt.mockReset()
})

describe('Settings → Data → Restore', () => {
  it('in a browser: checks the backup, shows what is in it and says it applies at the next start', async () => {
    api.stage.mockResolvedValue(staged)
    const wrapper = show()
    await flushPromises()
    await choose(wrapper)
    expect(api.stage).toHaveBeenCalledWith(expect.any(File))
    expect(wrapper.find('[data-testid="restore-summary"]').text()).toBe('Backup from 2026-11-30 06:00: 4 conversations, 2 agents, 2 KB.')
    expect(wrapper.find('[data-testid="restore-pending"]').text()).toContain('the next time Sage')
    expect(wrapper.find('[data-testid="restore-restart"]').exists()).toBe(false)
    api.discard.mockResolvedValue(null)
    await wrapper.find('[data-testid="restore-cancel"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="restore-pending"]').exists()).toBe(false)
  })

  it('in the desktop app: restarts the engine into the restored data', async () => {
    shell.inTauri.mockReturnValue(true)
    api.stage.mockResolvedValue(staged)
    shell.restartSidecar.mockResolvedValue({ apiBase: 'http://127.0.0.1:2', apiKey: 'k' })
    const wrapper = show()
    await flushPromises()
    await choose(wrapper)
    api.status.mockResolvedValue({ pending: false })
    await wrapper.find('[data-testid="restore-restart"]').trigger('click')
    await flushPromises()
    expect(adopt).toHaveBeenCalledWith({ apiBase: 'http://127.0.0.1:2', apiKey: 'k' })
    expect(wrapper.find('[data-testid="restore-done"]').exists()).toBe(true)
  })

  it('says why a zip is refused, in 中文 too', async () => {
    api.stage.mockRejectedValue(new ApiError(422, 'x', 'restore.bad_path', { path: 'storage/../../evil' }))
    const wrapper = show('zh')
    await flushPromises()
    await choose(wrapper)
    expect(wrapper.text()).toContain('备份中含有“storage/../../evil”')
    expect(wrapper.find('[data-testid="restore-pending"]').exists()).toBe(false)
  })
})
