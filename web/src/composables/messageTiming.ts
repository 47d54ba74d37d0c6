/** How long a reply took: time to its first token, in all, and its output speed. */
import type { Message } from '@/api'

export interface MessageTiming {
  firstTokenS: number | null
  totalS: number
  tokensPerS: number | null
}

export function messageTiming(message: Message): MessageTiming | null {
  if (message.role !== 'assistant' || !message.completed_at) return null
  const start = Date.parse(message.created_at)
  const end = Date.parse(message.completed_at)
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return null
  const first = message.first_token_at ? Date.parse(message.first_token_at) : NaN
  const firstTokenS = Number.isNaN(first) ? null : Math.max(0, (first - start) / 1000)
  // Output speed counts the streaming part only, so a slow first token does not hide a fast model.
  const streamingS = firstTokenS === null ? null : (end - first) / 1000
  const tokens = message.usage?.completionTokens
  const tokensPerS = tokens && streamingS && streamingS > 0.05 ? tokens / streamingS : null
  return { firstTokenS, totalS: (end - start) / 1000, tokensPerS }
}
