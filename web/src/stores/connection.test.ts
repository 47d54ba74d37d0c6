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

const shell = vi.hoisted(() => ({ getConnection: vi.fn() }))

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
  getConnection: shell.getConnection,
  startupErrorOf: (e: { startup?: StartupError }) => e.startup ?? null,
  restartSidecar: vi.fn(),
  onSidecarChanged: async (h: (c: SageConfig) => void) => void (api.handlers.changed = h),
  onSidecarFailed: async (h: (e: StartupError) => void) => void (api.handlers.failed = h),
}))

import { useConnectionStore } from './connection'

const health = { status: 'ok', version: '0.1.0', uptime_s: 1, db: { ok: true, revision: '0004' } }
const ready = api.source
const config = (port: number, apiKey: string) => ({
  apiBase: `http://127.0.0.1:${port}`,
  wsBase: `ws://127.0.0.1:${port}`,
  apiKey,
  version: '0.1.0',
})

beforeEach(() => {
  setActivePinia(createPinia())
  vi.clearAllMocks()
  api.source = ready
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

  describe('in the desktop app, where the window opens while the sidecar starts', () => {
    beforeEach(() => {
      api.source = { kind: 'shell' }
    })

    it('is connecting until the shell hands over the connection, then connects with it', async () => {
      let answer: (c: SageConfig) => void = () => {}
      shell.getConnection.mockReturnValue(new Promise((resolve) => (answer = resolve)))
      const store = useConnectionStore()
      const started = store.start()
      await Promise.resolve()
      expect(store.phase).toBe('connecting')
      expect(api.socket.start).not.toHaveBeenCalled()
      answer(config(5, 'k5'))
      await started
      expect(api.setConfig).toHaveBeenCalledWith(config(5, 'k5'))
      expect(api.socket.start).toHaveBeenCalledOnce()
      expect(store.phase).toBe('connected')
    })

    it('shows the startup error with its log path when the sidecar could not start', async () => {
      const startup = { message: 'the sidecar exited before it was ready', logPath: '/d/logs/shell.log' }
      shell.getConnection.mockRejectedValue({ startup })
      const store = useConnectionStore()
      await store.start()
      expect(store.phase).toBe('startup-error')
      expect(store.startupError).toEqual(startup)
      expect(api.socket.start).not.toHaveBeenCalled()
    })

    it('keeps a newer connection announced while it waited for the answer', async () => {
      let answer: (c: SageConfig) => void = () => {}
      shell.getConnection.mockReturnValue(new Promise((resolve) => (answer = resolve)))
      const store = useConnectionStore()
      const started = store.start()
      await vi.waitFor(() => expect(api.handlers.changed).toBeDefined())
      await api.handlers.changed?.(config(7, 'k7'))
      answer(config(6, 'k6'))
      await started
      expect(api.setConfig).toHaveBeenCalledTimes(1)
      expect(api.setConfig).toHaveBeenCalledWith(config(7, 'k7'))
      expect(store.phase).toBe('connected')
    })
  })
})
