import { mount } from '@vue/test-utils'
import { BookOpen } from 'lucide-vue-next'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import ConversationList from './ConversationList.vue'
import EmptyState from './EmptyState.vue'
import ListSkeleton from './ListSkeleton.vue'

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })

describe('empty states and skeletons', () => {
  it('says what the screen is for and offers its one action', async () => {
    const wrapper = mount(EmptyState, { props: { icon: BookOpen, title: 'No knowledge bases yet', text: 'A knowledge base holds…', actionLabel: 'New knowledge base' } })
    expect(wrapper.text()).toContain('No knowledge bases yet')
    expect(wrapper.find('svg').attributes('aria-hidden')).toBe('true')
    await wrapper.get('[data-testid="empty-action"]').trigger('click')
    expect(wrapper.emitted('action')).toHaveLength(1)
  })

  it('has no button without an action', () => {
    const wrapper = mount(EmptyState, { props: { icon: BookOpen, title: 't', text: 'x' } })
    expect(wrapper.find('button').exists()).toBe(false)
  })

  it('teaches on an empty conversation list, in English and Chinese', async () => {
    const wrapper = mount(ConversationList, { props: { conversations: [], currentId: null, hits: null }, global: { plugins: [i18n] } })
    expect(wrapper.get('[data-testid="empty-state"]').text()).toContain('No conversations yet')
    i18n.global.locale.value = 'zh'
    await wrapper.vm.$nextTick()
    expect(wrapper.get('[data-testid="empty-state"]').text()).toContain('还没有对话')
    i18n.global.locale.value = 'en'
  })

  it('announces a loading list as busy', () => {
    const wrapper = mount(ListSkeleton, { props: { rows: 2 }, global: { plugins: [i18n] } })
    expect(wrapper.attributes('aria-busy')).toBe('true')
    expect(wrapper.attributes('aria-label')).toBe('Loading…')
    expect(wrapper.findAll('.skeleton-row')).toHaveLength(2)
  })
})
