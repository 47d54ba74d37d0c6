/**
 * Applies `/ws/chat` frames to the message list of the open conversation. Pure: the store keeps
 * state, this decides what each frame means (docs/protocol.md).
 */
import type { Citation, Message, MessagePart } from '@/api'

export type ChatFrame = { type: string; messageId?: string; conversationId?: string; [key: string]: unknown }

export function placeholder(id: string, conversationId: string, role: Message['role'], content = ''): Message {
  return {
    id, conversation_id: conversationId, seq: 0, role, content, parts: [],
    status: role === 'assistant' ? 'streaming' : 'completed',
    error: null, model: null, usage: null, created_at: new Date().toISOString(),
    first_token_at: null, completed_at: null,
  }
}

function update(messages: Message[], id: string | undefined, change: (m: Message) => Message): Message[] {
  return messages.map((m) => (m.id === id ? change(m) : m))
}

export function applyFrame(messages: Message[], frame: ChatFrame): Message[] {
  const id = frame.messageId
  switch (frame.type) {
    case 'message.started':
      return update(messages, id, (m) => ({ ...m, model: (frame.model as string) ?? m.model, status: 'streaming' }))
    case 'message.delta':
      return update(messages, id, (m) => ({
        ...m,
        content: m.content + String(frame.delta ?? ''),
        // Timed on arrival while live; a reload shows the server's own timestamps.
        first_token_at: m.first_token_at ?? new Date().toISOString(),
      }))
    case 'tool.call':
      return update(messages, id, (m) => ({
        ...m,
        parts: [...m.parts, { type: 'tool_call', id: frame.callId, name: frame.name, arguments: frame.arguments } as MessagePart],
      }))
    case 'tool.result':
      return update(messages, id, (m) => ({
        ...m,
        parts: [...m.parts, {
          type: 'tool_result', id: frame.callId, name: frame.name, content: frame.content,
          isError: frame.isError, durationMs: frame.durationMs,
        } as MessagePart],
      }))
    case 'citations':
      return update(messages, id, (m) => ({ ...m, citations: frame.citations as Citation[] }))
    case 'notice':
      return update(messages, id, (m) => ({ ...m, parts: [...m.parts, { type: 'notice', text: String(frame.text) }] }))
    case 'plan.created':
      return update(messages, id, (m) => ({
        ...m, parts: [...m.parts, { type: 'plan', steps: frame.steps as never[] }],
      }))
    case 'plan.step':
      return update(messages, id, (m) => ({
        ...m,
        parts: m.parts.map((p) => {
          if (p.type !== 'plan') return p
          const step = { index: frame.index as number, title: frame.title as string, status: frame.status as string }
          const steps = p.steps.some((s) => s.index === step.index)
            ? p.steps.map((s) => (s.index === step.index ? { ...s, ...step } : s))
            : [...p.steps, step]
          return { ...p, steps }
        }),
      }))
    case 'usage':
      return update(messages, id, (m) => ({
        ...m, usage: { prompt_tokens: frame.prompt_tokens as number, completion_tokens: frame.completion_tokens as number },
      }))
    case 'message.completed':
    case 'message.failed':
      return update(messages, id, (m) => ({
        ...m,
        status: frame.status as Message['status'],
        content: typeof frame.content === 'string' ? frame.content : m.content,
        error: (frame.error as string | undefined) ?? null,
        completed_at: new Date().toISOString(),
      }))
    default:
      return messages
  }
}
