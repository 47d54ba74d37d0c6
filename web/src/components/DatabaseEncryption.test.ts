import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { DatabaseEncryption as Status } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ database: vi.fn(), setDatabase: vi.fn() }))
const shell = vi.hoisted(() => ({ inTauri: vi.fn(() => false), restartSidecar: vi.fn() }))
const connection = vi.hoisted(() => ({ adopt: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, privacy: api }))
vi.mock('@/api/shell', () => shell)
vi.mock('@/stores/connection', () => ({ useConnectionStore: () => connection }))

import { ApiError } from '@/api/http'

import DatabaseEncryption from './DatabaseEncryption.vue'

const status = (extra: Partial<Status> = {}): Status => ({
  encrypted: false,
  pending: null,
  keychain: 'Secret Service',
  last_failure: null,
  ...extra,
})

async function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  const wrapper = mount(DatabaseEncryption, { global: { plugins: [i18n] } })
  await flushPromises()
  return wrapper
}
const find = (wrapper: Awaited<ReturnType<typeof show>>, id: string) => wrapper.find(`[data-testid="${id}"]`)

describe('DatabaseEncryption', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    for (const fn of [api.database, api.setDatabase, shell.restartSidecar, connection.adopt]) fn.mockReset()
    shell.inTauri.mockReturnValue(false)
  })

  it('asks for encryption and says it happens at the next start outside the app', async () => {
    api.database.mockResolvedValue(status())
    api.setDatabase.mockResolvedValue(status({ pending: 'encrypted' }))
    const wrapper = await show()
    expect(find(wrapper, 'privacy-database-state').text()).toContain('not encrypted')
    const toggle = find(wrapper, 'privacy-database-toggle')
    ;(toggle.element as HTMLInputElement).checked = true
    await toggle.trigger('change')
    await flushPromises()
    expect(api.setDatabase).toHaveBeenCalledWith(true)
    expect(find(wrapper, 'privacy-database-pending').text()).toContain('will be encrypted')
    expect(find(wrapper, 'privacy-database-pending').text()).toContain('next time Sage starts')
    expect(find(wrapper, 'privacy-database-restart').exists()).toBe(false)
    expect((find(wrapper, 'privacy-database-toggle').element as HTMLInputElement).checked).toBe(true)
  })

  it('in the app, restarts the engine on request and shows the result', async () => {
    shell.inTauri.mockReturnValue(true)
    api.database
      .mockResolvedValueOnce(status({ pending: 'encrypted' }))
      .mockResolvedValueOnce(status({ encrypted: true }))
    const config = { apiBase: 'http://127.0.0.1:1', wsBase: 'ws://127.0.0.1:1', apiKey: 'k', version: '1' }
    shell.restartSidecar.mockResolvedValue(config)
    const wrapper = await show()
    await find(wrapper, 'privacy-database-restart').trigger('click')
    await flushPromises()
    expect(connection.adopt).toHaveBeenCalledWith(config)
    expect(find(wrapper, 'privacy-database-pending').exists()).toBe(false)
    expect(find(wrapper, 'privacy-database-state').text()).toContain('kept in Secret Service')
  })

  it('shows a refusal with its reason and puts the switch back', async () => {
    api.database.mockResolvedValue(status())
    api.setDatabase.mockRejectedValue(
      new ApiError(502, 'no keychain', 'privacy.keychain_unavailable', { reason: 'no Secret Service is running' }),
    )
    const wrapper = await show()
    const toggle = find(wrapper, 'privacy-database-toggle')
    ;(toggle.element as HTMLInputElement).checked = true
    await toggle.trigger('change')
    await flushPromises()
    expect(wrapper.text()).toContain('no Secret Service is running')
    expect((toggle.element as HTMLInputElement).checked).toBe(false)
  })

  it('says why the last conversion did not happen, in 中文 too', async () => {
    api.database.mockResolvedValue(status({ last_failure: { target: 'encrypted', reason: 'database is locked' } }))
    const wrapper = await show('zh')
    expect(find(wrapper, 'privacy-database-failed').text()).toContain('database is locked')
    expect(wrapper.find('h3').text()).toBe('加密数据库')
  })
})
