/**
 * Applies `/ws/chat` frames to the message list of the open conversation. Pure: the store keeps
 * state, this decides what each frame means (docs/protocol.md).
 *
 * `frameHandlers` has an entry for every `type` of the generated `ServerChatFrame` union, so a
 * frame the sidecar can send but the UI ignores is a type error (vue-tsc), and
 * chatReducer.test.ts checks the table against `api/frames.json` as well.
 */
import type {
  ContextPart, Message, MessagePart, PlanPart, PlanStep, ReasoningPart, ServerChatFrame, ServerChatFrameOf, ServerChatFrameType,
} from '@/api'

type Handler<T extends ServerChatFrameType> = (messages: Message[], frame: ServerChatFrameOf<T>) => Message[]

export function placeholder(id: string, conversationId: string, role: Message['role'], content = ''): Message {
  return {
    id, conversation_id: conversationId, seq: 0, role, content, parts: [],
    status: role === 'assistant' ? 'streaming' : 'completed',
    error: null, model: null, usage: null, created_at: new Date().toISOString(),
    first_token_at: null, completed_at: null,
  }
}

function update(messages: Message[], id: string, change: (m: Message) => Message): Message[] {
  return messages.map((m) => (m.id === id ? change(m) : m))
}

function addPart(messages: Message[], id: string, part: MessagePart): Message[] {
  return update(messages, id, (m) => ({ ...m, parts: [...m.parts, part] }))
}

function updatePlan(messages: Message[], id: string, change: (plan: PlanPart) => PlanPart): Message[] {
  return update(messages, id, (m) => ({ ...m, parts: m.parts.map((p) => (p.type === 'plan' ? change(p) : p)) }))
}

/** Thinking goes into its own part, never the answer: `started` opens a new one (a new model call),
 * else it extends the latest. */
function addReasoning(messages: Message[], f: ServerChatFrameOf<'reasoning.delta'>): Message[] {
  return update(messages, f.messageId, (m) => {
    const at = m.parts.map((p) => p.type).lastIndexOf('reasoning')
    if (f.started || at < 0) {
      return { ...m, parts: [...m.parts, { type: 'reasoning', text: f.delta, durationMs: f.durationMs }] }
    }
    const last = m.parts[at] as ReasoningPart
    const parts = m.parts.map((p, i) => (i === at ? { ...last, text: last.text + f.delta, durationMs: f.durationMs } : p))
    return { ...m, parts }
  })
}

/** The reply's one context part: a later step of the same reply that cuts more replaces it. */
function setContext(messages: Message[], id: string, part: ContextPart): Message[] {
  return update(messages, id, (m) => ({
    ...m,
    parts: m.parts.some((p) => p.type === 'context')
      ? m.parts.map((p) => (p.type === 'context' ? part : p))
      : [...m.parts, part],
  }))
}

/** Frames the store handles itself (they are not about one message's content). */
const keep = (messages: Message[]): Message[] => messages

export const frameHandlers: { [T in ServerChatFrameType]: Handler<T> } = {
  'chat.accepted': keep, // the store adds the placeholders: it knows what was asked
  error: keep, // shown by the store
  'conversation.titled': keep, // the conversation list, in the store
  'tool.approval_required': keep, // the store's pending approvals
  'message.started': (messages, f) =>
    update(messages, f.messageId, (m) => ({ ...m, model: f.model, status: 'streaming' })),
  'message.delta': (messages, f) =>
    update(messages, f.messageId, (m) => ({
      ...m,
      content: m.content + f.delta,
      // Timed on arrival while live; a reload shows the server's own timestamps.
      first_token_at: m.first_token_at ?? new Date().toISOString(),
    })),
  'reasoning.delta': addReasoning,
  'tool.call': (messages, f) =>
    addPart(messages, f.messageId, { type: 'tool_call', id: f.callId, name: f.name, arguments: f.arguments }),
  'tool.result': (messages, f) =>
    addPart(messages, f.messageId, {
      type: 'tool_result', id: f.callId, name: f.name, content: f.content, isError: f.isError, durationMs: f.durationMs,
    }),
  citations: (messages, f) => update(messages, f.messageId, (m) => ({ ...m, citations: f.citations })),
  'context.trimmed': (messages, f) => setContext(messages, f.messageId, f.part),
  notice: (messages, f) => addPart(messages, f.messageId, { type: 'notice', text: f.text, code: f.code, params: f.params }),
  'plan.created': (messages, f) => addPart(messages, f.messageId, { type: 'plan', steps: f.steps, check: null }),
  'plan.step': (messages, f) => {
    const step: PlanStep = {
      index: f.index, title: f.title, status: f.status, error: f.error, errorCode: f.errorCode,
      errorParams: f.errorParams, corrective: f.corrective,
    }
    return updatePlan(messages, f.messageId, (plan) => ({
      ...plan,
      steps: plan.steps.some((s) => s.index === step.index)
        ? plan.steps.map((s) => (s.index === step.index ? step : s))
        : [...plan.steps, step], // the self-check's corrective step
    }))
  },
  'plan.check': (messages, f) => updatePlan(messages, f.messageId, (plan) => ({ ...plan, check: { ok: f.ok, fix: f.fix } })),
  usage: (messages, f) =>
    update(messages, f.messageId, (m) => ({ ...m, usage: { promptTokens: f.promptTokens, completionTokens: f.completionTokens } })),
  'message.completed': (messages, f) =>
    update(messages, f.messageId, (m) => ({
      ...m, status: f.status, content: f.content, usage: f.usage, error: null, completed_at: new Date().toISOString(),
    })),
  'message.failed': (messages, f) =>
    update(messages, f.messageId, (m) => ({
      ...m, status: f.status, content: f.content, error: f.error, failure: { reason: f.reason, code: f.code, params: f.params },
      completed_at: new Date().toISOString(),
    })),
}

export function applyFrame(messages: Message[], frame: ServerChatFrame): Message[] {
  // TypeScript cannot correlate the table's key with the frame's type by itself.
  const handler = frameHandlers[frame.type] as (messages: Message[], frame: ServerChatFrame) => Message[]
  return handler(messages, frame)
}
