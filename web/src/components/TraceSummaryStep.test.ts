import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { RunStep } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { placeSteps } from '@/stores/traces'

import TraceTimeline from './TraceTimeline.vue'

// The summarise policy's hidden call (services/context/summary.py) is a step of its own.
const summary: RunStep = {
  id: 1, seq: 1, kind: 'model', purpose: 'summary', name: 'm', started_at: '2026-11-30T00:00:00Z', offset_ms: 0,
  duration_ms: 100, ttft_ms: null, prompt_tokens: 0, completion_tokens: 0, cost_usd: null, error: null, detail: {},
}

describe('a summary step in the trace', () => {
  it.each([['en', 'Summary of earlier messages (hidden)'], ['zh', '较早消息的摘要（隐藏）']] as const)('is named in %s', (locale, label) => {
    const wrapper = mount(TraceTimeline, {
      props: { steps: placeSteps([summary], 100), selected: null },
      global: { plugins: [createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })] },
    })
    expect(wrapper.find('[data-testid="trace-step"]').text()).toBe(label)
  })
})
