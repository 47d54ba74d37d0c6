import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { Conversation } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import ConversationList from './ConversationList.vue'

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })
const now = new Date().toISOString()
const conversation = { id: 'c1', agent_id: 'a1', title: 'Notes', model: null, created_at: now, updated_at: now } as Conversation

const show = () =>
  mount(ConversationList, { props: { conversations: [conversation], currentId: 'c1', hits: null }, global: { plugins: [i18n] } })

describe('ConversationList', () => {
  it('offers Markdown, JSON and HTML from the export menu and closes it after a pick', async () => {
    const wrapper = show()
    expect(wrapper.find('[data-testid="export-html"]').exists()).toBe(false)
    await wrapper.find('[data-testid="export"]').trigger('click')
    expect(wrapper.findAll('[role="menuitem"]').map((b) => b.text())).toEqual([
      'Markdown (.md)', 'JSON (re-importable)', 'Web page (.html)'])
    await wrapper.find('[data-testid="export-html"]').trigger('click')
    expect(wrapper.emitted('export')).toEqual([['c1', 'html']])
    expect(wrapper.find('[data-testid="export-html"]').exists()).toBe(false)
  })

  it('asks for the import dialog', async () => {
    const wrapper = show()
    await wrapper.find('[data-testid="import-history"]').trigger('click')
    expect(wrapper.emitted('import')).toHaveLength(1)
  })
})
