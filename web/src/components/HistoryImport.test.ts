import { DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { Agent, ImportReport } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ importHistory: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, conversations: api }))

import HistoryImport from './HistoryImport.vue'
import { installJsdomShims, pick } from './ui/testing'

const report = (dryRun: boolean, extra: Partial<ImportReport> = {}): ImportReport => ({
  source: 'chatgpt', dry_run: dryRun, agent_id: 'a2', conversations: 1, updated: 0, messages: 5, skipped: 1,
  skipped_messages: 3, branches_left_out: 2,
  items: [
    { id: 'c1', title: '数学 help', messages: 5, added: 5, skipped_messages: 3, branches_left_out: 2, outcome: 'new' },
    { id: null, title: 'Empty', messages: 0, added: 0, skipped_messages: 1, branches_left_out: 0, outcome: 'empty' },
  ],
  ...extra,
})
const agents = [{ id: 'a1', name: 'Sage', avatar: '🌿' }, { id: 'a2', name: 'Archivist', avatar: '📚' }] as Agent[]

// The dialog is portalled to <body>: the test looks there.
const body = () => new DOMWrapper(document.body)
beforeAll(installJsdomShims)
afterEach(() => {
  document.body.innerHTML = ''
})

async function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  const wrapper = mount(HistoryImport, { props: { agents, defaultAgentId: 'a1' }, global: { plugins: [i18n] }, attachTo: document.body })
  await flushPromises() // the dialog's content mounts after the dialog
  return wrapper
}

async function choose(file: File): Promise<void> {
  const input = body().find('[data-testid="history-file"]')
  Object.defineProperty(input.element, 'files', { value: [file] })
  await input.trigger('change')
  await flushPromises()
}

describe('HistoryImport', () => {
  it('previews first (a dry run for the picked agent), then imports on confirm', async () => {
    api.importHistory.mockReset().mockResolvedValueOnce(report(true)).mockResolvedValueOnce(report(false))
    const wrapper = await show()
    await pick(wrapper, 'history-agent', 'a2')
    const file = new File(['[]'], 'conversations.json')
    await choose(file)
    expect(api.importHistory).toHaveBeenCalledWith(file, { agentId: 'a2', dryRun: true })
    const preview = body().find('[data-testid="history-preview"]').text()
    expect(preview).toContain('ChatGPT')
    expect(preview).toContain('1 new conversations, 0 with new messages, 5 messages to import; 1 skipped')
    expect(body().find('[data-testid="history-branches"]').text()).toContain('2 other branches')
    expect(body().findAll('[data-testid="history-item"]').map((li) => li.text())).toEqual([
      '数学 help · 5 · new', 'Empty · 0 · empty'])
    await body().find('[data-testid="history-confirm"]').trigger('click')
    await flushPromises()
    expect(api.importHistory).toHaveBeenLastCalledWith(file, { agentId: 'a2', dryRun: false })
    expect(wrapper.emitted('imported')?.[0]?.[0]).toMatchObject({ dry_run: false, conversations: 1 })
  })

  it('cannot import when the preview finds nothing new, and says so in 中文 too', async () => {
    api.importHistory.mockReset().mockResolvedValueOnce(report(true, { conversations: 0, messages: 0, branches_left_out: 0 }))
    await show('zh')
    await choose(new File(['[]'], 'conversations.json'))
    expect(body().find('[data-testid="history-confirm"]').attributes('disabled')).toBeDefined()
    expect(body().text()).toContain('没有新的内容可导入')
    expect(body().find('[data-testid="history-branches"]').exists()).toBe(false)
  })

  it('shows a refused file as its translated error and imports nothing', async () => {
    const { ApiError } = await import('@/api/http')
    api.importHistory.mockReset().mockRejectedValueOnce(new ApiError(422, 'x', 'import.unknown_format', {}))
    await show()
    await choose(new File(['{}'], 'x.json'))
    expect(body().text()).toContain('This is not a ChatGPT, Claude or Sage export.')
    expect(body().find('[data-testid="history-confirm"]').attributes('disabled')).toBeDefined()
  })
})
