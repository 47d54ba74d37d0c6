import { describe, expect, it } from 'vitest'

import type { PlanStep, ServerChatFrameOf } from '@/api'
import frames from '@/api/frames.json'

import { applyFrame, frameHandlers, placeholder } from './chatReducer'

const ids = { conversationId: 'c1', messageId: 'a1' }
const start = () => [placeholder('u1', 'c1', 'user', 'hi'), placeholder('a1', 'c1', 'assistant')]
const completed = (fields: Partial<ServerChatFrameOf<'message.completed'>>): ServerChatFrameOf<'message.completed'> => ({
  type: 'message.completed', ...ids, status: 'completed', content: '', usage: { promptTokens: 1, completionTokens: 1 }, durationMs: 5,
  ...fields,
})
const failedFrame = (fields: Partial<ServerChatFrameOf<'message.failed'>>): ServerChatFrameOf<'message.failed'> => ({
  type: 'message.failed', ...ids, status: 'failed', reason: 'internal', error: '', code: null, params: {}, content: '', ...fields,
})
const step = (fields: Partial<PlanStep> & Pick<PlanStep, 'index' | 'title'>): PlanStep => ({
  status: 'pending', error: null, errorCode: null, errorParams: {}, corrective: false, ...fields,
})

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

  it('keeps thinking in reasoning parts, one per model call, never in the text', () => {
    const thought = (delta: string, started: boolean, durationMs: number): ServerChatFrameOf<'reasoning.delta'> => ({
      type: 'reasoning.delta', ...ids, delta, started, durationMs,
    })
    let messages = start()
    messages = applyFrame(messages, thought('Let me ', true, 0))
    messages = applyFrame(messages, thought('think.', false, 900))
    messages = applyFrame(messages, { type: 'message.delta', ...ids, delta: 'Answer' })
    messages = applyFrame(messages, thought('Again.', true, 10))
    expect(messages[1].content).toBe('Answer')
    expect(messages[1].parts).toEqual([
      { type: 'reasoning', text: 'Let me think.', durationMs: 900 },
      { type: 'reasoning', text: 'Again.', durationMs: 10 },
    ])
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
    done = applyFrame(done, completed({ content: 'partial text' }))
    expect(done[1]).toMatchObject({ status: 'completed', content: 'partial text', error: null })

    let failed = applyFrame(start(), { type: 'message.delta', ...ids, delta: 'par' })
    failed = applyFrame(failed, failedFrame({ content: 'par', error: 'dropped', reason: 'dropped' }))
    expect(failed[1]).toMatchObject({ status: 'failed', content: 'par', error: 'dropped' })
  })

  it('keeps the code of a failure for the UI to translate', () => {
    const failed = applyFrame(start(), failedFrame({ reason: 'setup', code: 'no_model', params: { agent: 'Sage', provider: 'Local' } }))
    expect(failed[1].failure).toEqual({ reason: 'setup', code: 'no_model', params: { agent: 'Sage', provider: 'Local' } })
  })

  it('marks a cancelled reply interrupted', () => {
    const messages = applyFrame(start(), failedFrame({ status: 'interrupted', reason: 'cancelled', error: 'Stopped by the user.' }))
    expect(messages[1].status).toBe('interrupted')
  })

  it('keeps the token usage, camelCase as sent', () => {
    let messages = applyFrame(start(), { type: 'usage', ...ids, promptTokens: 12, completionTokens: 5 })
    expect(messages[1].usage).toEqual({ promptTokens: 12, completionTokens: 5 })
    messages = applyFrame(messages, completed({ usage: { promptTokens: 12, completionTokens: 6 } }))
    expect(messages[1].usage).toEqual({ promptTokens: 12, completionTokens: 6 })
  })

  it('tracks plan steps, the error of a failed step, the self-check and its corrective step', () => {
    let messages = applyFrame(start(), { type: 'plan.created', ...ids, steps: [step({ index: 0, title: 'A' }), step({ index: 1, title: 'B' })] })
    messages = applyFrame(messages, { type: 'plan.step', ...ids, ...step({ index: 0, title: 'A', status: 'done' }) })
    messages = applyFrame(messages, {
      type: 'plan.step', ...ids,
      ...step({ index: 1, title: 'B', status: 'failed', error: 'Stopped after 8 tool steps', errorCode: 'tool_steps', errorParams: { steps: '8' } }),
    })
    messages = applyFrame(messages, { type: 'plan.check', ...ids, ok: false, fix: 'Redo B' })
    messages = applyFrame(messages, { type: 'plan.step', ...ids, ...step({ index: 2, title: 'Redo B', corrective: true }) })
    const plan = messages[1].parts[0]
    if (plan.type !== 'plan') throw new Error('no plan part')
    expect(plan.steps.map((s) => s.status)).toEqual(['done', 'failed', 'pending'])
    expect(plan.steps[1]).toMatchObject({ error: 'Stopped after 8 tool steps', errorCode: 'tool_steps', errorParams: { steps: '8' } })
    expect(plan.steps[2].corrective).toBe(true)
    expect(plan.check).toEqual({ ok: false, fix: 'Redo B' })
  })

  it('keeps the code and parameters of a notice', () => {
    const messages = applyFrame(start(), {
      type: 'notice', ...ids, text: 'MCP server x failed', code: 'mcp_unavailable', params: { error: 'MCP server x failed' },
    })
    expect(messages[1].parts).toEqual([{ type: 'notice', text: 'MCP server x failed', code: 'mcp_unavailable', params: { error: 'MCP server x failed' } }])
  })

  it('leaves the frames the store handles to the store', () => {
    const messages = start()
    expect(applyFrame(messages, { type: 'conversation.titled', ...ids, title: 'T' })).toBe(messages)
    expect(applyFrame(messages, { type: 'error', requestId: 'r1', error: 'bad', code: null, params: {} })).toBe(messages)
  })
})

describe('frameHandlers', () => {
  it('has a handler for every frame type the sidecar can send (api/frames.json)', () => {
    const sent = frames.ServerChatFrame
    expect(sent.length).toBeGreaterThan(10)
    expect(Object.keys(frameHandlers).sort()).toEqual([...sent].sort())
  })
})
