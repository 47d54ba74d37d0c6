import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { RunStep } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { placeSteps } from '@/stores/traces'

import TraceTimeline from './TraceTimeline.vue'

const step = (seq: number, offset: number, duration: number, extra: Partial<RunStep> = {}): RunStep => ({
  id: seq, seq, kind: 'model', purpose: 'answer', name: 'm', started_at: '2026-11-30T00:00:00Z', offset_ms: offset,
  duration_ms: duration, ttft_ms: null, prompt_tokens: 0, completion_tokens: 0, cost_usd: null, error: null, detail: {}, ...extra,
})

const show = (locale: 'en' | 'zh', steps: RunStep[]) =>
  mount(TraceTimeline, {
    props: { steps: placeSteps(steps, 1000), selected: 2 },
    global: { plugins: [createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })] },
  })

describe('TraceTimeline', () => {
  const steps = [
    step(1, 0, 200, { purpose: 'plan' }),
    step(2, 200, 300, { kind: 'tool', purpose: 'tool', name: 'calculator' }),
    step(3, 500, 500, { purpose: 'self_check', error: 'timeout' }),
  ]

  it('labels hidden calls and tools and draws bars to scale', () => {
    const wrapper = show('en', steps)
    expect(wrapper.findAll('[data-testid="trace-step"]').map((b) => b.text())).toEqual([
      'Plan (hidden)', 'calculator', 'Self-check (hidden)',
    ])
    // an SVG icon (not a font glyph) tells a tool from a model call
    expect(wrapper.findAll('[data-testid="trace-step"] svg.icon').length).toBe(3)
    const bars = wrapper.findAll('[data-testid="trace-bar"]').map((b) => b.attributes('style'))
    expect(bars).toEqual(['left: 0%; width: 20%;', 'left: 20%; width: 30%;', 'left: 50%; width: 50%;'])
    expect(wrapper.findAll('li')[1].classes()).toContain('selected')
    expect(wrapper.findAll('li')[2].classes()).toContain('failed')
  })

  it('speaks Chinese and tells which step was picked', async () => {
    const wrapper = show('zh', steps)
    expect(wrapper.text()).toContain('计划（隐藏）')
    expect(wrapper.text()).toContain('200 毫秒')
    await wrapper.findAll('[data-testid="trace-step"]')[2].trigger('click')
    expect(wrapper.emitted('select')).toEqual([[3]])
  })
})
