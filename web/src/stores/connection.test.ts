import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import type { SageConfig, StartupError } from '@/api'

// The store's collaborators: the api facade and the shell bridge, replaced by fakes we drive.
const api = vi.hoisted(() => ({
  source: { kind: 'ready', config: { apiBase: 'http://127.0.0.1:1', wsBase: 'ws://127.0.0.1:1', apiKey: 'k', version: '0.1.0' } } as unknown,
  getHealth: vi.fn(),
  setConfig: vi.fn(),
  socket: { start: vi.fn(), stop: vi.fn(), reconnectNow: vi.fn() },
  handlers: {} as { changed?: (c: SageConfig) => void; failed?: (e: StartupError) => void },
  onEvent: null as ((event: { type: string }) => void) | null,
}))

vi.mock('@/api', () => ({
  configSource: () => api.source,
  getHealth: api.getHealth,
  setConfig: api.setConfig,
  openEventSocket: (options: { onEvent: (event: { type: string }) => void }) => {
    api.onEvent = options.onEvent
    return api.socket
  },
}))
vi.mock('@/api/shell', () => ({
  inTauri: () => true,
  restartSidecar: vi.fn(),
  onSidecarChanged: async (h: (c: SageConfig) => void) => void (api.handlers.changed = h),
  onSidecarFailed: async (h: (e: StartupError) => void) => void (api.handlers.failed = h),
}))

import { useConnectionStore } from './connection'

const health = { status: 'ok', version: '0.1.0', uptime_s: 1, db: { ok: true, revision: '0004' } }

beforeEach(() => {
  setActivePinia(createPinia())
  vi.clearAllMocks()
  api.getHealth.mockResolvedValue(health)
})

describe('connection store', () => {
  it('connects: health over HTTP, events over the socket', async () => {
    const store = useConnectionStore()
    await store.start()
    expect(store.phase).toBe('connected')
    expect(store.health?.version).toBe('0.1.0')
    expect(api.socket.start).toHaveBeenCalledOnce()
  })

  it('keeps the latest events and hands each one to subscribers until they unsubscribe', async () => {
    const store = useConnectionStore()
    await store.start()
    const heard: string[] = []
    const unsubscribe = store.subscribe((event) => heard.push(event.type))
    api.onEvent?.({ type: 'hello' })
    api.onEvent?.({ type: 'chat.reply_finished' })
    unsubscribe()
    api.onEvent?.({ type: 'heartbeat' })
    expect(heard).toEqual(['hello', 'chat.reply_finished'])
    expect(store.events.map((e) => e.type)).toEqual(['heartbeat', 'chat.reply_finished', 'hello'])
  })

  it('shows an error with the reason when the sidecar cannot be reached', async () => {
    api.getHealth.mockRejectedValue(new Error('Cannot reach the sidecar: Failed to fetch'))
    const store = useConnectionStore()
    await store.start()
    expect(store.phase).toBe('error')
    expect(store.error).toContain('Cannot reach the sidecar')
  })

  it('adopts a restarted sidecar without a reload', async () => {
    const store = useConnectionStore()
    await store.start()
    const next = { apiBase: 'http://127.0.0.1:2', wsBase: 'ws://127.0.0.1:2', apiKey: 'k2', version: '0.1.0' }
    api.handlers.changed?.(next)
    await vi.waitFor(() => expect(api.socket.reconnectNow).toHaveBeenCalled())
    expect(api.setConfig).toHaveBeenCalledWith(next)
    expect(store.phase).toBe('connected')
  })

  it('shows the crash-loop failure with its log path, and recovers on a new config', async () => {
    const store = useConnectionStore()
    await store.start()
    api.handlers.failed?.({ message: 'The local engine keeps crashing', logPath: '/d/logs/shell.log' })
    expect(store.phase).toBe('startup-error')
    expect(store.startupError?.logPath).toBe('/d/logs/shell.log')
    expect(api.socket.stop).toHaveBeenCalled()
    api.handlers.changed?.({ apiBase: 'http://127.0.0.1:3', wsBase: 'ws://127.0.0.1:3', apiKey: 'k3', version: '0.1.0' })
    await vi.waitFor(() => expect(store.phase).toBe('connected'))
    expect(store.startupError).toBeNull()
  })
})
