import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { EventSocket, WS_CLOSE_UNAUTHORIZED, type SocketState } from './events'
import type { SageEvent } from './types'

/** A scriptable stand-in for the browser WebSocket. */
class FakeSocket {
  static instances: FakeSocket[] = []
  sent: string[] = []
  closedWith: number | null = null
  onopen: (() => void) | null = null
  onmessage: ((event: { data: string }) => void) | null = null
  onclose: ((event: { code: number }) => void) | null = null
  constructor(readonly url: string) {
    FakeSocket.instances.push(this)
  }
  send(data: string) {
    this.sent.push(data)
  }
  close(code = 1000) {
    this.closedWith = code
  }
  // Test controls: what the server does.
  open() {
    this.onopen?.()
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) })
  }
  drop(code = 1006) {
    this.onclose?.({ code })
  }
}

let config = { apiBase: 'http://127.0.0.1:4100', wsBase: 'ws://127.0.0.1:4100', apiKey: 'key-1', version: '' }

function makeSocket() {
  const events: SageEvent[] = []
  const states: SocketState[] = []
  const socket = new EventSocket(() => config, {
    path: '/ws/events',
    onEvent: (e) => events.push(e),
    onState: (s) => states.push(s),
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
  })
  return { socket, events, states }
}

const latest = () => FakeSocket.instances[FakeSocket.instances.length - 1]

beforeEach(() => {
  FakeSocket.instances = []
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

describe('EventSocket', () => {
  it('authenticates with the first frame, never the URL', () => {
    const { socket } = makeSocket()
    socket.start()
    expect(latest().url).toBe('ws://127.0.0.1:4100/ws/events')
    expect(latest().url).not.toContain('key-1')
    latest().open()
    expect(latest().sent).toEqual([JSON.stringify({ type: 'auth', apiKey: 'key-1' })])
  })

  it('reports open after auth.ok and forwards later events', () => {
    const { socket, events, states } = makeSocket()
    socket.start()
    latest().open()
    latest().receive({ type: 'auth.ok' })
    latest().receive({ type: 'heartbeat', seq: 1 })
    expect(states).toEqual(['connecting', 'open'])
    expect(events).toEqual([{ type: 'heartbeat', seq: 1 }])
  })

  it('reconnects with growing delays after drops, and resets after success', () => {
    const { socket, states } = makeSocket()
    socket.start()
    latest().drop()
    expect(states.at(-1)).toBe('reconnecting')
    expect(FakeSocket.instances).toHaveLength(1)
    vi.advanceTimersByTime(249)
    expect(FakeSocket.instances).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.instances).toHaveLength(2) // first retry after 250 ms
    latest().drop()
    vi.advanceTimersByTime(499)
    expect(FakeSocket.instances).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.instances).toHaveLength(3) // second retry after 500 ms
    latest().open()
    latest().receive({ type: 'auth.ok' })
    latest().drop()
    vi.advanceTimersByTime(250)
    expect(FakeSocket.instances).toHaveLength(4) // back to 250 ms after a success
  })

  it('stops retrying when the key is refused, until reconnectNow with a new config', () => {
    const { socket, states } = makeSocket()
    socket.start()
    latest().open()
    latest().drop(WS_CLOSE_UNAUTHORIZED)
    expect(states.at(-1)).toBe('unauthorized')
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.instances).toHaveLength(1)

    config = { ...config, wsBase: 'ws://127.0.0.1:5200', apiKey: 'key-2' }
    socket.reconnectNow()
    expect(latest().url).toBe('ws://127.0.0.1:5200/ws/events')
    latest().open()
    expect(latest().sent).toEqual([JSON.stringify({ type: 'auth', apiKey: 'key-2' })])
  })

  it('does not reconnect after stop()', () => {
    const { socket, states } = makeSocket()
    socket.start()
    const first = latest()
    socket.stop()
    first.drop(1000)
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.instances).toHaveLength(1)
    expect(first.closedWith).toBe(1000)
    expect(states.at(-1)).toBe('closed')
  })

  it('ignores non-JSON frames', () => {
    const { socket, events } = makeSocket()
    socket.start()
    latest().onmessage?.({ data: 'not json' })
    expect(events).toEqual([])
  })
})
