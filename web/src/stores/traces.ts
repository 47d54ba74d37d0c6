/** Runs and traces: the trace viewer's run, and the prices and retention that Settings edits. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { runs as api, type DailyUsage, type ModelPrice, type ReplayResult, type RunStep, type RunTotals, type RunTrace } from '@/api'

import { useLastError } from './lastError'

/** A step placed on the run's timeline: `left` and `width` in percent of the run's span. */
export interface PlacedStep {
  step: RunStep
  left: number
  width: number
}

/** Durations drawn to scale: the span is the run's duration, or its last step's end if later. */
export function placeSteps(steps: RunStep[], runMs: number | null): PlacedStep[] {
  const end = Math.max(runMs ?? 0, ...steps.map((s) => s.offset_ms + s.duration_ms), 1)
  return steps.map((step) => ({
    step,
    left: (step.offset_ms / end) * 100,
    // A 0 ms step still shows as a sliver.
    width: Math.max((step.duration_ms / end) * 100, 0.4),
  }))
}

/** The estimated cost, or why there is none: 'unknown' when no token had a price. */
export function costOf(totals: RunTotals): { usd: number | null; partial: boolean } {
  return { usd: totals.cost_usd ?? null, partial: totals.unpriced_models.length > 0 && totals.cost_usd != null }
}

export function formatUsd(usd: number): string {
  if (usd === 0) return '$0'
  return usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(usd < 1 ? 3 : 2)}`
}

export const useTracesStore = defineStore('traces', () => {
  const trace = ref<RunTrace | null>(null)
  /** The whole conversation's tokens and cost, regenerated replies included. */
  const conversationTotals = ref<RunTotals | null>(null)
  const replayed = ref<ReplayResult | null>(null)
  const prices = ref<ModelPrice[]>([])
  const usage = ref<DailyUsage[]>([])
  const retentionDays = ref<number | null>(null)
  const { error, attempt } = useLastError()

  const timeline = computed(() => (trace.value ? placeSteps(trace.value.steps, trace.value.duration_ms) : []))

  async function loadForMessage(messageId: string): Promise<void> {
    trace.value = null
    replayed.value = null
    conversationTotals.value = null
    const found = await attempt(() => api.forMessage(messageId))
    if (!found) return
    trace.value = found
    if (found.conversation_id) {
      const runs = await attempt(() => api.ofConversation(found.conversation_id as string))
      if (runs) conversationTotals.value = runs.totals
    }
  }

  async function exportRun(): Promise<Blob | undefined> {
    const run = trace.value
    return run ? attempt(() => api.export(run.id)) : undefined
  }

  async function replay(): Promise<void> {
    const run = trace.value
    if (!run) return
    const result = await attempt(() => api.replay(run.id))
    if (result) replayed.value = result
  }

  async function loadSettings(): Promise<void> {
    const [list, settings, daily] = await Promise.all([
      attempt(() => api.prices()), attempt(() => api.settings()), attempt(() => api.usageDaily()),
    ])
    if (list) prices.value = list
    if (settings) retentionDays.value = settings.retention_days
    if (daily) usage.value = daily
  }

  async function setPrice(model: string, input: number, output: number): Promise<void> {
    const saved = await attempt(() => api.setPrice({ model, input_per_mtok: input, output_per_mtok: output }))
    if (saved) prices.value = [...prices.value.filter((p) => p.model !== model), saved].sort((a, b) => a.model.localeCompare(b.model))
  }

  async function resetPrice(model: string): Promise<void> {
    if ((await attempt(() => api.resetPrice(model))) === null) {
      const list = await attempt(() => api.prices())
      if (list) prices.value = list
    }
  }

  async function setRetention(days: number): Promise<void> {
    const saved = await attempt(() => api.setSettings({ retention_days: days }))
    if (saved) retentionDays.value = saved.retention_days
  }

  return {
    trace, conversationTotals, replayed, prices, usage, retentionDays, error, timeline,
    loadForMessage, exportRun, replay, loadSettings, setPrice, resetPrice, setRetention,
  }
})
