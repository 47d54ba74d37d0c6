/**
 * A keyed sidecar WebSocket (`/ws/events`, `/ws/chat`). Browsers cannot set headers on a WebSocket, so the
 * key goes in the first frame (never in the URL). Drops reconnect with backoff; an auth refusal
 * does not (retrying the same key is pointless) until `reconnectNow()`, e.g. after a new config.
 */
import type { SageConfig } from './config'
import { backoffDelay } from './backoff'
import type { SageEvent } from './types'

export const WS_CLOSE_UNAUTHORIZED = 4401
export const WS_CLOSE_FORBIDDEN_ORIGIN = 4403

export type SocketState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed'

/** A socket's frames in (`In`: `SageEvent` on `/ws/events`, `ServerChatFrame` on `/ws/chat`) and
 * out (`Out`: the client frames it may send). Both are generated from the sidecar's models. */
export interface EventSocketOptions<In extends { type: string } = SageEvent> {
  path?: string
  onEvent: (event: In) => void
  onState?: (state: SocketState) => void
  WebSocketImpl?: typeof WebSocket
}

export class EventSocket<In extends { type: string } = SageEvent, Out extends { type: string } = never> {
  private socket: WebSocket | null = null
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private stopped = true
  state: SocketState = 'idle'

  constructor(
    private readonly config: () => SageConfig,
    private readonly options: EventSocketOptions<In>,
  ) {}

  start(): void {
    this.stopped = false
    this.connect()
  }

  stop(): void {
    this.stopped = true
    this.clearTimer()
    this.socket?.close(1000)
    this.socket = null
    this.setState('closed')
  }

  /** Send a frame on an authenticated socket; false (nothing sent) when not connected. */
  send(frame: Out): boolean {
    if (this.state !== 'open' || !this.socket) return false
    this.socket.send(JSON.stringify(frame))
    return true
  }

  /** Drop the current socket and connect again at once, e.g. with a new port and key. */
  reconnectNow(): void {
    this.stopped = false
    this.attempt = 0
    this.clearTimer()
    const old = this.socket
    this.socket = null
    old?.close(1000)
    this.connect()
  }

  private connect(): void {
    const { wsBase, apiKey } = this.config()
    const Impl = this.options.WebSocketImpl ?? WebSocket
    const socket = new Impl(`${wsBase}${this.options.path ?? '/ws/events'}`)
    this.socket = socket
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting')

    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', apiKey }))
    socket.onmessage = (message: MessageEvent) => {
      let event: unknown
      try {
        event = JSON.parse(String(message.data))
      } catch {
        return // not ours to interpret; the protocol is JSON frames only
      }
      if (!isFrame(event)) return
      if (event.type === 'auth.ok') {
        this.attempt = 0
        this.setState('open')
        return
      }
      // The sidecar builds every frame from the models these types are generated from.
      this.options.onEvent(event as In)
    }
    socket.onclose = (close: CloseEvent) => {
      if (this.socket !== socket) return // superseded by reconnectNow()
      this.socket = null
      if (this.stopped) return this.setState('closed')
      if (close.code === WS_CLOSE_UNAUTHORIZED || close.code === WS_CLOSE_FORBIDDEN_ORIGIN) {
        return this.setState('unauthorized')
      }
      this.scheduleReconnect()
    }
  }

  private scheduleReconnect(): void {
    this.setState('reconnecting')
    const delay = backoffDelay(this.attempt++)
    this.timer = setTimeout(() => {
      this.timer = null
      if (!this.stopped) this.connect()
    }, delay)
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private setState(state: SocketState): void {
    if (state === this.state) return
    this.state = state
    this.options.onState?.(state)
  }
}

function isFrame(value: unknown): value is { type: string } {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
}
