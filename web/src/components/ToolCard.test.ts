import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { ToolCallPart, ToolResultPart } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { useChatStore } from '@/stores/chat'

import ToolCard from './ToolCard.vue'

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })
const RouterLink = { props: ['to'], template: '<a :data-to="JSON.stringify(to)"><slot /></a>' }
const call = (name: string, args: object): ToolCallPart => ({ type: 'tool_call', id: 'c1', name, arguments: JSON.stringify(args) })
const result = (isError = false): ToolResultPart =>
  ({ type: 'tool_result', id: 'c1', name: 'write_file', content: isError ? 'Error: no' : 'wrote 3 bytes', isError, durationMs: 4 })
const show = (props: { call: ToolCallPart; result?: ToolResultPart }) =>
  mount(ToolCard, { props, global: { plugins: [i18n], stubs: { RouterLink } } })

beforeEach(() => {
  setActivePinia(createPinia())
  useChatStore().agentId = 'agent-1'
})

describe('ToolCard', () => {
  it('links a file the agent wrote to the Workspace screen at that file', () => {
    const link = show({ call: call('write_file', { path: './notes\\todo.md', content: 'x' }), result: result() }).find('[data-testid="tool-open-file"]')
    expect(JSON.parse(link.attributes('data-to')!)).toEqual({ name: 'workspace', query: { agent: 'agent-1', path: 'notes/todo.md' } })
  })

  it('has no link for a failed write, a write still running, or another tool', () => {
    const write = call('write_file', { path: 'a.md', content: 'x' })
    expect(show({ call: write, result: result(true) }).find('[data-testid="tool-open-file"]').exists()).toBe(false)
    expect(show({ call: write }).find('[data-testid="tool-open-file"]').exists()).toBe(false)
    expect(show({ call: call('read_file', { path: 'a.md' }), result: result() }).find('[data-testid="tool-open-file"]').exists()).toBe(false)
  })
})
