import { describe, expect, it } from 'vitest'

import type { ContextPart, Message } from '@/api'

import { applyFrame, placeholder } from './chatReducer'

const part = (messages: number): ContextPart => ({
  type: 'context', action: 'dropped', messages, keptFrom: 'u3', truncated: false, window: 1024, summary: null, covers: null,
})

describe('context.trimmed', () => {
  it('keeps one context part on the reply, the latest cut replacing the earlier one', () => {
    let messages: Message[] = [placeholder('r1', 'c1', 'assistant')]
    const frame = { type: 'context.trimmed', conversationId: 'c1', messageId: 'r1' } as const
    messages = applyFrame(messages, { ...frame, part: part(2) })
    expect(messages[0]?.parts).toEqual([part(2)])
    messages = applyFrame(messages, { ...frame, part: part(4) })
    expect(messages[0]?.parts).toEqual([part(4)])
  })
})
