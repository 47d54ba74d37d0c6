import { DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import { beforeAll, describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { Conversation } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import ConversationList from './ConversationList.vue'
import { installJsdomShims } from './ui/testing'

beforeAll(installJsdomShims)
const body = () => new DOMWrapper(document.body) // the menu is portalled to <body>

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })
const now = new Date().toISOString()
const conversation = { id: 'c1', agent_id: 'a1', title: 'Notes', model: null, created_at: now, updated_at: now } as Conversation

const show = () =>
  mount(ConversationList, { props: { conversations: [conversation], currentId: 'c1', hits: null }, global: { plugins: [i18n] }, attachTo: document.body })

describe('ConversationList', () => {
  it('offers Markdown, JSON and HTML from the export menu and closes it after a pick', async () => {
    const wrapper = show()
    expect(wrapper.find('[data-testid="export-html"]').exists()).toBe(false)
    await wrapper.find('[data-testid="export"]').trigger('keydown', { key: 'Enter' }) // Reka opens menus on key or pointer down
    await flushPromises()
    expect(body().findAll('[role="menuitem"]').map((b) => b.text())).toEqual([
      'Markdown (.md)', 'JSON (re-importable)', 'Web page (.html)'])
    await body().find('[data-testid="export-html"]').trigger('click')
    await flushPromises()
    expect(wrapper.emitted('export')).toEqual([['c1', 'html']])
    expect(body().find('[data-testid="export-html"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('asks for the import dialog', async () => {
    const wrapper = show()
    await wrapper.find('[data-testid="import-history"]').trigger('click')
    expect(wrapper.emitted('import')).toHaveLength(1)
  })
})
