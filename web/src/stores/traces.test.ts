import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { ApiError, type RunStep, type RunTrace } from '@/api'

const api = vi.hoisted(() => ({
  forMessage: vi.fn(), ofConversation: vi.fn(), export: vi.fn(), replay: vi.fn(), prices: vi.fn(), settings: vi.fn(),
  usageDaily: vi.fn(), setPrice: vi.fn(), resetPrice: vi.fn(), setSettings: vi.fn(),
}))

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, runs: api }))

import { costOf, formatUsd, placeSteps, useTracesStore } from './traces'

const step = (seq: number, offset: number, duration: number, extra: Partial<RunStep> = {}): RunStep => ({
  id: seq, seq, kind: 'model', purpose: 'answer', name: 'm', started_at: '2026-11-30T00:00:00Z', offset_ms: offset,
  duration_ms: duration, ttft_ms: null, prompt_tokens: 0, completion_tokens: 0, cost_usd: null, error: null, detail: {}, ...extra,
})

const totals = { prompt_tokens: 10, completion_tokens: 5, cost_usd: null, unpriced_models: [] as string[] }
const run = (steps: RunStep[], duration = 1000): RunTrace => ({
  id: 'r1', kind: 'plan', status: 'completed', conversation_id: 'c1', message_id: 'm1', agent_id: 'a1', agent_name: 'Sage',
  provider_name: 'Demo', provider_kind: 'openai', model: 'm', error: null, started_at: '2026-11-30T00:00:00Z',
  ended_at: '2026-11-30T00:00:01Z', duration_ms: duration, step_count: steps.length, totals, steps,
})

beforeEach(() => {
  setActivePinia(createPinia())
  Object.values(api).forEach((fn) => fn.mockReset())
})

describe('trace timeline', () => {
  it('draws each step to scale on the run span', () => {
    const placed = placeSteps([step(1, 0, 250), step(2, 250, 500), step(3, 900, 0)], 1000)
    expect(placed.map((p) => [p.left, p.width])).toEqual([[0, 25], [25, 50], [90, 0.4]])
  })

  it('stretches the span to a step that ends after the run (a title made after the answer)', () => {
    const placed = placeSteps([step(1, 0, 500), step(2, 1500, 500)], 1000)
    expect(placed[1]).toMatchObject({ left: 75, width: 25 })
  })
})

describe('cost', () => {
  it('says unknown, partial, or the amount', () => {
    expect(costOf(totals)).toEqual({ usd: null, partial: false })
    expect(costOf({ ...totals, cost_usd: 0.5, unpriced_models: ['x'] })).toEqual({ usd: 0.5, partial: true })
    expect([formatUsd(0), formatUsd(0.00042), formatUsd(0.125), formatUsd(3.456)]).toEqual(['$0', '$0.00042', '$0.125', '$3.46'])
  })
})

describe('traces store', () => {
  it('loads a reply trace, places its steps, and replays it', async () => {
    const store = useTracesStore()
    api.forMessage.mockResolvedValue(run([step(1, 0, 100, { purpose: 'plan' }), step(2, 100, 900)]))
    api.ofConversation.mockResolvedValue({ runs: [], totals: { ...totals, prompt_tokens: 99 } })
    await store.loadForMessage('m1')
    expect(api.forMessage).toHaveBeenCalledWith('m1')
    expect(api.ofConversation).toHaveBeenCalledWith('c1')
    expect(store.conversationTotals?.prompt_tokens).toBe(99)
    expect(store.timeline.map((p) => p.step.purpose)).toEqual(['plan', 'answer'])
    api.replay.mockResolvedValue({ run_id: 'r1', steps: [] })
    await store.replay()
    expect(api.replay).toHaveBeenCalledWith('r1')
    expect(store.replayed).toEqual({ run_id: 'r1', steps: [] })
  })

  it('keeps the failure to show instead of throwing', async () => {
    const store = useTracesStore()
    api.forMessage.mockRejectedValue(new ApiError(404, 'no trace', 'not_found'))
    await store.loadForMessage('gone')
    expect(store.trace).toBeNull()
    expect((store.error as ApiError).status).toBe(404)
  })

  it('saves a price as the user\'s and reloads after a reset', async () => {
    const store = useTracesStore()
    api.setPrice.mockResolvedValue({ model: 'mine', input_per_mtok: 1, output_per_mtok: 2, source: 'user' })
    await store.setPrice('mine', 1, 2)
    expect(api.setPrice).toHaveBeenCalledWith({ model: 'mine', input_per_mtok: 1, output_per_mtok: 2 })
    expect(store.prices.map((p) => p.source)).toEqual(['user'])
    api.resetPrice.mockResolvedValue(null)
    api.prices.mockResolvedValue([])
    await store.resetPrice('mine')
    expect(store.prices).toEqual([])
  })
})
