/** Conversations and the open chat: history over HTTP, replies streamed over `/ws/chat`. */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'

import {
  conversations as conversationsApi,
  openChatSocket,
  type Attachment,
  type ChatSocket,
  type ClientChatFrame,
  type Conversation,
  type Message,
  type MessagePart,
  type SageEvent,
  type SearchHit,
  type ServerChatFrame,
  type ServerChatFrameOf,
  type SocketState,
} from '@/api'
import { UiError } from '@/composables/errors'

import { applyFrame, placeholder } from './chatReducer'

export interface PendingApproval {
  callId: string
  messageId: string
  name: string
  arguments: string
  /** Why this call asks (a domain to fetch from, or untrusted content read first); see docs/protocol.md. */
  reason?: 'domain' | 'tainted' | null
  reasonParams?: Record<string, string>
}

type Intent =
  | { kind: 'send'; content: string; parts?: MessagePart[] }
  | { kind: 'regenerate'; messageId: string }
  | { kind: 'edit'; messageId: string; content: string }

let requestCounter = 0

export const useChatStore = defineStore('chat', () => {
  const conversations = ref<Conversation[]>([])
  const currentId = ref<string | null>(null)
  /** The agent a new conversation starts with (the default agent until the user picks another). */
  const agentId = ref<string | null>(null)
  const messages = ref<Message[]>([])
  const approvals = ref<PendingApproval[]>([])
  /** The last failure (shown with ErrorNotice): an error frame (code, params, English) or the UI's own. */
  const error = ref<unknown>(null)
  const socketState = ref<SocketState>('idle')
  const searchHits = ref<SearchHit[] | null>(null)
  const socket = shallowRef<ChatSocket | null>(null)
  const intents = new Map<string, Intent>()
  /** Replies this window's socket started (their frames come here). */
  const mine = new Set<string>()
  /** Approvals of replies started elsewhere (quick ask), heard on /ws/events, by call id. */
  const elsewhere = new Map<string, PendingApproval & { conversationId: string }>()

  const streaming = computed(() => messages.value.filter((m) => m.status === 'streaming').map((m) => m.id))
  const current = computed(() => conversations.value.find((c) => c.id === currentId.value) ?? null)

  function connect(): void {
    if (socket.value) return
    socket.value = openChatSocket({ onEvent: onFrame, onState: (s) => (socketState.value = s) })
    socket.value.start()
  }

  async function loadConversations(): Promise<void> {
    conversations.value = await conversationsApi.list()
  }

  async function open(id: string | null): Promise<void> {
    currentId.value = id
    approvals.value = [...elsewhere.values()]
      .filter((a) => a.conversationId === id)
      .map(({ conversationId: _, ...approval }) => approval)
    messages.value = id ? await conversationsApi.messages(id) : []
  }

  /** Resolves once the socket is authenticated, or false after `timeoutMs` (e.g. just after
   * start-up or a sidecar restart, when the user is quicker than the handshake). */
  function whenOpen(timeoutMs = 5000): Promise<boolean> {
    if (socketState.value === 'open') return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => { stop(); resolve(false) }, timeoutMs)
      const stop = watch(socketState, (state) => {
        if (state !== 'open') return
        clearTimeout(timer)
        stop()
        resolve(true)
      })
    })
  }

  async function request(frame: ClientChatFrame, intent?: Intent): Promise<boolean> {
    const requestId = `r${++requestCounter}`
    if (!(await whenOpen()) || !socket.value?.send({ ...frame, requestId })) {
      error.value = new UiError('notConnected')
      return false
    }
    if (intent) intents.set(requestId, intent)
    error.value = null
    return true
  }

  /** Send a message with the files uploaded for it (`attachments.upload`). */
  function send(content: string, files: Attachment[] = []): boolean {
    const text = content.trim()
    if (!text && files.length === 0) return false
    const target = currentId.value ? { conversationId: currentId.value } : { agentId: agentId.value ?? undefined }
    const attachments = files.length ? { attachments: files.map((f) => f.id) } : {}
    // The message shows its files at once, as the sidecar will store them.
    const parts = files.map((f): MessagePart => (f.kind === 'image'
      ? { type: 'image', id: f.id, name: f.name, size: f.size, mime: f.mime ?? 'image/png', width: f.width ?? 0, height: f.height ?? 0 }
      : { type: 'attachment', id: f.id, name: f.name, size: f.size, chars: f.chars, truncated: f.truncated, text: '' }))
    void request({ type: 'chat.send', content: text, ...target, ...attachments }, { kind: 'send', content: text, parts })
    return true
  }

  const cancel = (messageId: string) => request({ type: 'chat.cancel', messageId })
  const regenerate = (messageId: string) => request({ type: 'chat.regenerate', messageId }, { kind: 'regenerate', messageId })
  /** Change a user message and answer it again; what followed it is replaced. */
  const edit = (messageId: string, content: string) =>
    request({ type: 'chat.edit', messageId, content }, { kind: 'edit', messageId, content })

  function answerApproval(callId: string, decision: 'approve' | 'deny' | 'always'): void {
    void request({ type: 'tool.approval', callId, decision })
    approvals.value = approvals.value.filter((a) => a.callId !== callId)
    elsewhere.delete(callId)
  }

  function onFrame(frame: ServerChatFrame): void {
    if (frame.type === 'chat.accepted') return accepted(frame)
    if (frame.type === 'error') {
      intents.delete(String(frame.requestId))
      error.value = frame // ErrorNotice translates its code, else shows its English `error`
      return
    }
    if (frame.type === 'conversation.titled') {
      conversations.value = conversations.value.map((c) => (c.id === frame.conversationId ? { ...c, title: frame.title } : c))
      return
    }
    if (frame.conversationId !== currentId.value) return
    if (frame.type === 'tool.approval_required') {
      // The same call may have been heard on /ws/events first (see onAppEvent).
      approvals.value = [...approvals.value.filter((a) => a.callId !== frame.callId), {
        callId: frame.callId, messageId: frame.messageId, name: frame.name, arguments: frame.arguments,
        reason: frame.reason ?? null, reasonParams: frame.reasonParams ?? {},
      }]
      return
    }
    if (frame.type === 'message.completed' || frame.type === 'message.failed') {
      approvals.value = approvals.value.filter((a) => a.messageId !== frame.messageId)
    }
    messages.value = applyFrame(messages.value, frame)
  }

  function accepted(frame: ServerChatFrameOf<'chat.accepted'>): void {
    const intent = intents.get(String(frame.requestId))
    intents.delete(String(frame.requestId))
    const conversationId = frame.conversationId
    if (!intent) return
    mine.add(frame.messageId)
    if (currentId.value === null) {
      currentId.value = conversationId
      void loadConversations()
    }
    if (conversationId !== currentId.value) return
    if (intent.kind === 'regenerate') {
      const index = messages.value.findIndex((m) => m.id === intent.messageId)
      if (index >= 0) messages.value = messages.value.slice(0, index)
    } else if (intent.kind === 'edit') {
      const index = messages.value.findIndex((m) => m.id === intent.messageId)
      if (index >= 0) {
        messages.value = [...messages.value.slice(0, index), { ...messages.value[index], content: intent.content }]
      }
    } else {
      const sent = placeholder(String(frame.userMessageId), conversationId, 'user', intent.content)
      messages.value = [...messages.value, { ...sent, parts: intent.parts ?? [] }]
    }
    messages.value = [...messages.value, placeholder(frame.messageId, conversationId, 'assistant')]
  }

  async function search(text: string): Promise<void> {
    searchHits.value = text.trim() ? await conversationsApi.search(text) : null
  }

  async function rename(id: string, title: string): Promise<void> {
    const updated = await conversationsApi.rename(id, title)
    conversations.value = conversations.value.map((c) => (c.id === id ? updated : c))
  }

  async function remove(id: string): Promise<void> {
    await conversationsApi.remove(id)
    conversations.value = conversations.value.filter((c) => c.id !== id)
    if (currentId.value === id) await open(null)
  }

  /**
   * App-wide events (`/ws/events`) about replies this window did not start, e.g. from quick ask:
   * their approvals can be answered here (the sidecar takes an answer from any connection), and
   * the open conversation is reloaded once such a reply is finished.
   */
  function onAppEvent(event: SageEvent): void {
    if (event.type !== 'chat.approval_required' && event.type !== 'chat.reply_finished') return
    const { conversationId, messageId } = event
    if (mine.has(messageId)) {
      if (event.type === 'chat.reply_finished') mine.delete(messageId)
      return
    }
    if (event.type === 'chat.approval_required') {
      const approval = { callId: event.callId, messageId, name: event.tool, arguments: event.arguments,
        reason: event.reason ?? null, reasonParams: event.reasonParams ?? {} }
      elsewhere.set(approval.callId, { ...approval, conversationId })
      const known = approvals.value.some((a) => a.callId === approval.callId)
      if (conversationId === currentId.value && !known) approvals.value = [...approvals.value, approval]
    } else if (event.type === 'chat.reply_finished') {
      for (const [callId, approval] of elsewhere) if (approval.messageId === messageId) elsewhere.delete(callId)
      approvals.value = approvals.value.filter((a) => a.messageId !== messageId)
      if (!conversations.value.some((c) => c.id === conversationId)) void loadConversations()
      if (conversationId === currentId.value) void conversationsApi.messages(conversationId).then((list) => {
        if (currentId.value === conversationId) messages.value = list
      })
    }
  }

  /** The sidecar moved (new port and key): the socket follows. */
  function reconnect(): void {
    socket.value?.reconnectNow()
  }

  return {
    conversations, currentId, agentId, current, messages, approvals, error, socketState, searchHits, streaming,
    connect, loadConversations, open, send, cancel, regenerate, edit, answerApproval, search, rename, remove, reconnect,
    onFrame, onAppEvent,
  }
})
