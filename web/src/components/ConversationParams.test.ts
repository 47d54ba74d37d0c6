import { DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { Agent, Conversation, ContextPart } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ setParams: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, conversations: api }))

import ContextMarker from './ContextMarker.vue'
import ConversationParams from './ConversationParams.vue'
import { installJsdomShims } from './ui/testing'

// The popover is portalled to <body>: the test looks there.
const body = () => new DOMWrapper(document.body)
beforeAll(installJsdomShims)
afterEach(() => {
  document.body.innerHTML = ''
})

const NONE = { temperature: null, top_p: null, max_tokens: null, stop: null, seed: null, reasoning_effort: null }
const conversation = (params = {}): Conversation => ({
  id: 'c1', agent_id: 'a1', title: 'Chat', model: null, model_params: { ...NONE, ...params },
  created_at: '2026-11-30T00:00:00Z', updated_at: '2026-11-30T00:00:00Z',
}) as Conversation
const agent = { id: 'a1', temperature: 0.2, top_p: null, max_tokens: 512, stop: ['END'], seed: null, reasoning_effort: null } as unknown as Agent

function i18n(locale = 'en') {
  return createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
}

describe('ConversationParams', () => {
  it("shows the agent's values as placeholders and saves only what the user set", async () => {
    api.setParams.mockReset().mockResolvedValue(conversation({ temperature: 1.1 }))
    const wrapper = mount(ConversationParams, { attachTo: document.body, props: { conversation: conversation(), agent }, global: { plugins: [i18n()] } })
    expect(wrapper.find('[data-testid="params-toggle"]').text()).toBe('Parameters')
    await wrapper.find('[data-testid="params-toggle"]').trigger('click')
    await flushPromises()
    const temperature = body().find<HTMLInputElement>('[data-testid="param-temperature"]')
    expect(temperature.attributes('placeholder')).toBe('0.2')
    expect(body().find('[data-testid="param-stop"]').attributes('placeholder')).toBe('END')
    await temperature.setValue('1.1')
    await body().find('[data-testid="param-stop"]').setValue('###\n\nSTOP')
    await body().find('form').trigger('submit')
    await flushPromises()
    expect(api.setParams).toHaveBeenCalledWith('c1', { ...NONE, temperature: 1.1, stop: ['###', 'STOP'] })
    expect(wrapper.emitted('saved')?.[0]?.[0]).toMatchObject({ model_params: { temperature: 1.1 } })
    expect(body().find('[data-testid="params-popover"]').exists()).toBe(false)
  })

  it("counts the conversation's own parameters and clears them back to the agent's", async () => {
    api.setParams.mockReset().mockResolvedValue(conversation())
    const wrapper = mount(ConversationParams, { attachTo: document.body,
      props: { conversation: conversation({ temperature: 0.9, seed: 3 }), agent }, global: { plugins: [i18n('zh')] },
    })
    expect(wrapper.find('[data-testid="params-toggle"]').text()).toBe('参数（2）')
    await wrapper.find('[data-testid="params-toggle"]').trigger('click')
    await flushPromises()
    expect(body().find<HTMLInputElement>('[data-testid="param-seed"]').element.value).toBe('3')
    await body().find('[data-testid="params-reset"]').trigger('click')
    await flushPromises()
    expect(api.setParams).toHaveBeenCalledWith('c1', null)
  })

  it('shows a refused value as the error the sidecar sent', async () => {
    const { ApiError } = await import('@/api/http')
    api.setParams.mockReset().mockRejectedValue(new ApiError(422, 'bad', 'request.invalid', { errors: [] }))
    const wrapper = mount(ConversationParams, { attachTo: document.body, props: { conversation: conversation(), agent: null }, global: { plugins: [i18n()] } })
    await wrapper.find('[data-testid="params-toggle"]').trigger('click')
    await flushPromises()
    await body().find('[data-testid="param-temperature"]').setValue('5')
    await body().find('form').trigger('submit')
    await flushPromises()
    expect(body().find('[data-testid="params-popover"]').exists()).toBe(true)
    expect(body().text()).toContain(en.errors.request.invalid.split('{')[0].trim())
  })
})

describe('ContextMarker', () => {
  const part = (extra: Partial<ContextPart> = {}): ContextPart => ({
    type: 'context', action: 'dropped', messages: 6, keptFrom: 'm7', truncated: false, window: 1024, summary: null, covers: null,
    ...extra,
  })

  it('says how many earlier messages were left out, in English and 中文', () => {
    const marker = mount(ContextMarker, { props: { part: part() }, global: { plugins: [i18n()] } })
    expect(marker.text()).toBe("Earlier messages were left out to fit the model's context — 6 messages")
    const zhMarker = mount(ContextMarker, { props: { part: part() }, global: { plugins: [i18n('zh')] } })
    expect(zhMarker.text()).toContain('较早的消息未发送 — 6 条消息')
  })

  it('shows a summary behind a disclosure and a shortened message', () => {
    const marker = mount(ContextMarker, {
      props: { part: part({ action: 'summarised', summary: 'They planned a trip.', truncated: true }) },
      global: { plugins: [i18n()] },
    })
    expect(marker.attributes('data-action')).toBe('summarised')
    expect(marker.text()).toContain('summarised to fit')
    expect(marker.find('details').text()).toContain('They planned a trip.')
    expect(marker.find('[data-testid="context-truncated"]').exists()).toBe(true)
  })
})
