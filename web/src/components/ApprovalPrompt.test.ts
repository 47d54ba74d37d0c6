import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import type { PendingApproval } from '@/stores/chat'

import ApprovalPrompt from './ApprovalPrompt.vue'

const i18n = (locale = 'en') => createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
const base: PendingApproval = { callId: 'c1', messageId: 'm1', name: 'write_file', arguments: '{"path": "a.txt"}' }
const show = (approval: PendingApproval, locale = 'en') => mount(ApprovalPrompt, { props: { approval }, global: { plugins: [i18n(locale)] } })

describe('ApprovalPrompt', () => {
  it('says nothing extra for a tool that always asks', () => {
    expect(show(base).find('[data-testid="approval-reason"]').exists()).toBe(false)
  })

  it('names the domain a fetch would reach', () => {
    const prompt = show({ ...base, name: 'fetch_url', reason: 'domain', reasonParams: { domain: 'example.com' } })
    expect(prompt.get('[data-testid="approval-reason"]').text()).toContain('example.com')
  })

  it('says why it asks again after untrusted content, in each language', () => {
    const tainted = { ...base, reason: 'tainted' as const, reasonParams: { source: 'fetched_page' } }
    expect(show(tainted).get('[data-testid="approval-reason"]').text()).toContain('a fetched web page')
    expect(show(tainted, 'zh').get('[data-testid="approval-reason"]').text()).toContain('获取的网页')
  })
})
