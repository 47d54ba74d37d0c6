import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import type { SageEventOf, ServerChatFrame, SocketState } from '@/api'

const fake = vi.hoisted(() => ({
  sent: [] as ({ requestId: string | null } & Record<string, unknown>)[],
  onState: null as ((s: SocketState) => void) | null,
  onEvent: null as ((f: ServerChatFrame) => void) | null,
  open: false,
}))

const history = vi.hoisted(() => ({ messages: [] as unknown[] }))

vi.mock('@/api', () => ({
  conversations: { list: vi.fn(async () => []), messages: vi.fn(async () => history.messages) },
  openChatSocket: (options: { onEvent: typeof fake.onEvent; onState: typeof fake.onState }) => {
    fake.onEvent = options.onEvent
    fake.onState = options.onState
    return {
      start: () => options.onState?.('connecting'),
      send: (frame: { requestId: string | null } & Record<string, unknown>) => (fake.open ? (fake.sent.push(frame), true) : false),
      reconnectNow: vi.fn(),
    }
  },
}))

import { useChatStore } from './chat'

const approvalEvent = (conversationId: string, messageId: string, callId: string, args: string): SageEventOf<'chat.approval_required'> => ({
  type: 'chat.approval_required', seq: 1, time: 0, conversationId, messageId, callId, tool: 'write_file', arguments: args, title: 'T',
  reason: 'tainted', reasonParams: { source: 'attachment' },
})

beforeEach(() => {
  setActivePinia(createPinia())
  fake.sent = []
  fake.open = false
  history.messages = []
})

describe('chat store', () => {
  it('holds a message typed before the socket is ready and sends it once authenticated', async () => {
    const chat = useChatStore()
    chat.connect()
    chat.send('hello')
    await Promise.resolve()
    expect(fake.sent).toEqual([])
    fake.open = true
    fake.onState?.('open')
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1))
    expect(fake.sent[0]).toMatchObject({ type: 'chat.send', content: 'hello' })
    expect(chat.error).toBeNull()
  })

  it('adds the user message and a streaming reply when the sidecar accepts', async () => {
    const chat = useChatStore()
    chat.connect()
    fake.open = true
    fake.onState?.('open')
    chat.send('hi there')
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1))
    fake.onEvent?.({ type: 'chat.accepted', requestId: fake.sent[0].requestId, conversationId: 'c1', userMessageId: 'u1', messageId: 'a1' })
    fake.onEvent?.({ type: 'message.delta', conversationId: 'c1', messageId: 'a1', delta: 'Hey' })
    expect(chat.currentId).toBe('c1')
    expect(chat.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'hi there', 'completed'],
      ['assistant', 'Hey', 'streaming'],
    ])
    expect(chat.streaming).toEqual(['a1'])
  })

  it('shows approval prompts and clears them when answered', async () => {
    const chat = useChatStore()
    chat.connect()
    fake.open = true
    fake.onState?.('open')
    chat.currentId = 'c1'
    fake.onEvent?.({ type: 'tool.approval_required', conversationId: 'c1', messageId: 'a1', callId: 'w1', name: 'write_file', arguments: '{}', timeoutS: 120, reason: 'tainted', reasonParams: { source: 'fetched_page' } })
    expect(chat.approvals).toHaveLength(1)
    // The prompt says why it asks (the reducer keeps the frame's coded reason).
    expect([chat.approvals[0].reason, chat.approvals[0].reasonParams]).toEqual(['tainted', { source: 'fetched_page' }])
    chat.answerApproval('w1', 'deny')
    expect(chat.approvals).toEqual([])
    await vi.waitFor(() => expect(fake.sent.at(-1)).toMatchObject({ type: 'tool.approval', callId: 'w1', decision: 'deny' }))
  })

  it('answers approvals of replies started elsewhere (quick ask), heard on /ws/events', async () => {
    const chat = useChatStore()
    chat.connect()
    fake.open = true
    fake.onState?.('open')
    chat.onAppEvent(approvalEvent('c9', 'a9', 'w9', '{"path":"x"}'))
    expect(chat.approvals).toEqual([]) // another conversation is open
    await chat.open('c9')
    expect(chat.approvals).toEqual([{ callId: 'w9', messageId: 'a9', name: 'write_file', arguments: '{"path":"x"}', reason: 'tainted', reasonParams: { source: 'attachment' } }])
    chat.answerApproval('w9', 'approve')
    await vi.waitFor(() => expect(fake.sent.at(-1)).toMatchObject({ type: 'tool.approval', callId: 'w9', decision: 'approve' }))
    await chat.open('c9')
    expect(chat.approvals).toEqual([]) // answered: not offered again
  })

  it('reloads the open conversation when a reply started elsewhere is finished', async () => {
    const chat = useChatStore()
    await chat.open('c9')
    chat.onAppEvent(approvalEvent('c9', 'a9', 'w9', '{}'))
    history.messages = [{ id: 'a9', role: 'assistant', content: 'Done.', status: 'completed', parts: [] }]
    chat.onAppEvent({
      type: 'chat.reply_finished', seq: 2, time: 0, conversationId: 'c9', messageId: 'a9', status: 'completed', title: 'T', preview: 'Done.', error: null,
    })
    expect(chat.approvals).toEqual([])
    await vi.waitFor(() => expect(chat.messages.map((m) => m.content)).toEqual(['Done.']))
  })

  it('leaves its own replies to its socket', async () => {
    const chat = useChatStore()
    chat.connect()
    fake.open = true
    fake.onState?.('open')
    chat.send('hi')
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1))
    fake.onEvent?.({ type: 'chat.accepted', requestId: fake.sent[0].requestId, conversationId: 'c1', userMessageId: 'u1', messageId: 'a1' })
    fake.onEvent?.({ type: 'tool.approval_required', conversationId: 'c1', messageId: 'a1', callId: 'w1', name: 'write_file', arguments: '{}', timeoutS: 120, reason: null, reasonParams: {} })
    chat.onAppEvent(approvalEvent('c1', 'a1', 'w1', '{}'))
    expect(chat.approvals).toHaveLength(1)
  })
})
