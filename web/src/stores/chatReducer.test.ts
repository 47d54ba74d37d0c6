import { describe, expect, it } from 'vitest'

import { applyFrame, placeholder } from './chatReducer'

const ids = { conversationId: 'c1', messageId: 'a1' }
const start = () => [placeholder('u1', 'c1', 'user', 'hi'), placeholder('a1', 'c1', 'assistant')]

describe('applyFrame', () => {
  it('streams deltas into the right message', () => {
    let messages = start()
    messages = applyFrame(messages, { type: 'message.started', ...ids, model: 'm1' })
    messages = applyFrame(messages, { type: 'message.delta', ...ids, delta: 'Hel' })
    messages = applyFrame(messages, { type: 'message.delta', ...ids, delta: 'lo' })
    messages = applyFrame(messages, { type: 'message.delta', conversationId: 'c1', messageId: 'other', delta: 'x' })
    expect(messages[1]).toMatchObject({ content: 'Hello', model: 'm1', status: 'streaming' })
    expect(messages[1].first_token_at).not.toBeNull()
    expect(messages[0].content).toBe('hi')
  })

  it('keeps the numbered sources sent before the first token', () => {
    const source = {
      number: 1, chunkId: 7, kbId: 'kb', fileId: 'f', fileName: 'guide.md', heading: 'Install', page: null,
      charStart: 0, charEnd: 40, snippet: 'Run the installer.', score: 0.03,
    }
    let messages = applyFrame(start(), { type: 'citations', ...ids, citations: [source] })
    messages = applyFrame(messages, { type: 'message.delta', ...ids, delta: 'Run it [1].' })
    expect(messages[1].citations).toEqual([source])
    expect(messages[0].citations).toBeUndefined()
  })

  it('records tool calls and results in order', () => {
    let messages = start()
    messages = applyFrame(messages, { type: 'tool.call', ...ids, callId: 'c', name: 'calculator', arguments: '{}' })
    messages = applyFrame(messages, { type: 'tool.result', ...ids, callId: 'c', name: 'calculator', content: '4', isError: false, durationMs: 3 })
    expect(messages[1].parts.map((p) => p.type)).toEqual(['tool_call', 'tool_result'])
    expect(messages[1].parts[1]).toMatchObject({ content: '4', isError: false })
  })

  it('ends with the server text on completion and keeps partial text on failure', () => {
    let done = applyFrame(start(), { type: 'message.delta', ...ids, delta: 'par' })
    done = applyFrame(done, { type: 'message.completed', ...ids, status: 'completed', content: 'partial text' })
    expect(done[1]).toMatchObject({ status: 'completed', content: 'partial text', error: null })

    let failed = applyFrame(start(), { type: 'message.delta', ...ids, delta: 'par' })
    failed = applyFrame(failed, { type: 'message.failed', ...ids, status: 'failed', content: 'par', error: 'dropped' })
    expect(failed[1]).toMatchObject({ status: 'failed', content: 'par', error: 'dropped' })
  })

  it('marks a cancelled reply interrupted', () => {
    const messages = applyFrame(start(), { type: 'message.failed', ...ids, status: 'interrupted', reason: 'cancelled', content: '', error: 'Stopped by the user.' })
    expect(messages[1].status).toBe('interrupted')
  })

  it('tracks plan steps', () => {
    let messages = applyFrame(start(), { type: 'plan.created', ...ids, steps: [{ index: 0, title: 'A', status: 'pending' }] })
    messages = applyFrame(messages, { type: 'plan.step', ...ids, index: 0, title: 'A', status: 'done' })
    messages = applyFrame(messages, { type: 'plan.step', ...ids, index: 1, title: 'Fix', status: 'pending' })
    const plan = messages[1].parts[0]
    expect(plan.type === 'plan' && plan.steps.map((s) => s.status)).toEqual(['done', 'pending'])
  })

  it('ignores frames it does not know', () => {
    const messages = start()
    expect(applyFrame(messages, { type: 'something.new', ...ids })).toBe(messages)
  })
})
