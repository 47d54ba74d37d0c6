import { describe, expect, it } from 'vitest'

import type { Message } from '@/api'

import { messageTiming } from './messageTiming'

const reply = (fields: Partial<Message>): Message => ({
  id: 'a', conversation_id: 'c', seq: 2, role: 'assistant', content: 'x', parts: [], status: 'completed',
  error: null, model: 'm', usage: null, created_at: '2026-11-25T10:00:00.000Z', first_token_at: null,
  completed_at: null, ...fields,
})

describe('messageTiming', () => {
  it('measures first token, total time and output speed', () => {
    const timing = messageTiming(reply({
      first_token_at: '2026-11-25T10:00:00.400Z', completed_at: '2026-11-25T10:00:02.400Z',
      usage: { promptTokens: 10, completionTokens: 80 },
    }))
    expect(timing).toEqual({ firstTokenS: 0.4, totalS: 2.4, tokensPerS: 40 })
  })

  it('has no speed without a first token or usage, and no timing while streaming', () => {
    expect(messageTiming(reply({ completed_at: '2026-11-25T10:00:01.000Z' }))).toEqual({ firstTokenS: null, totalS: 1, tokensPerS: null })
    expect(messageTiming(reply({ status: 'streaming' }))).toBeNull()
    expect(messageTiming(reply({ role: 'user', completed_at: '2026-11-25T10:00:01.000Z' }))).toBeNull()
  })
})
