/**
 * Model parameters as a form edits them (text fields; stop sequences one a line) and back. The
 * agent editor and a conversation's parameters popover share it; the sidecar checks the ranges
 * (a 422 `request.invalid` names the field), the form only keeps them in reach.
 */
import type { ModelParams, ReasoningEffort } from '@/api'

export interface ParamsDraft {
  temperature: string
  top_p: string
  max_tokens: string
  stop: string
  seed: string
  reasoning_effort: ReasoningEffort | ''
}

export const REASONING_EFFORTS: ReasoningEffort[] = ['minimal', 'low', 'medium', 'high']

type ParamsLike = { [K in keyof ModelParams]?: ModelParams[K] }

const text = (value: number | null | undefined): string => (value === null || value === undefined ? '' : String(value))

export function paramsDraft(params: ParamsLike | null | undefined): ParamsDraft {
  return {
    temperature: text(params?.temperature),
    top_p: text(params?.top_p),
    max_tokens: text(params?.max_tokens),
    stop: (params?.stop ?? []).join('\n'),
    seed: text(params?.seed),
    reasoning_effort: params?.reasoning_effort ?? '',
  }
}

// A number input's v-model hands back a number once the user typed one, a string while empty.
const number = (value: string | number): number | null => (String(value).trim() === '' ? null : Number(value))

/** What the form says, each empty field null (the agent's, or the provider's default). */
export function paramsOf(draft: ParamsDraft): ModelParams {
  const stop = draft.stop.split('\n').filter((s) => s.length > 0)
  return {
    temperature: number(draft.temperature),
    top_p: number(draft.top_p),
    max_tokens: number(draft.max_tokens),
    stop: stop.length ? stop : null,
    seed: number(draft.seed),
    reasoning_effort: draft.reasoning_effort || null,
  }
}

/** How many parameters are set (the popover's button shows it). */
export function countSet(params: ParamsLike | null | undefined): number {
  if (!params) return 0
  return Object.values(params).filter((v) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)).length
}
