import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { ApiError, type McpServer } from '@/api'

const api = vi.hoisted(() => ({ list: vi.fn(), create: vi.fn(), update: vi.fn(), remove: vi.fn(), tools: vi.fn() }))

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, mcpServers: api }))

import { useMcpStore } from './mcp'

const server = (id: string, extra: Partial<McpServer> = {}) =>
  ({ id, name: id, transport: 'stdio', command: 'x', args: [], url: null, enabled: true, trusted: false, ...extra }) as McpServer

beforeEach(() => {
  setActivePinia(createPinia())
  Object.values(api).forEach((fn) => fn.mockReset())
})

describe('mcp store', () => {
  it('lists servers and names them as agents refer to them', async () => {
    const store = useMcpStore()
    api.list.mockResolvedValue([server('time')])
    await store.load()
    api.create.mockResolvedValue(server('files'))
    await store.create({ name: 'files', transport: 'stdio', command: 'x' })
    expect(store.toolRefs).toEqual(['mcp:time', 'mcp:files'])
  })

  it('shows a starting server, then its tools; a failed request leaves no spinner', async () => {
    const store = useMcpStore()
    let answer: (value: unknown) => void = () => {}
    api.tools.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)))
    const pending = store.loadTools('time')
    expect(store.tools.time).toBe('loading')
    answer({ ok: true, error: null, tools: [{ name: 'now', description: '' }] })
    await pending
    expect(store.tools.time).toMatchObject({ ok: true })
    api.tools.mockRejectedValueOnce(new ApiError(404, 'gone'))
    await store.loadTools('gone')
    expect(store.tools.gone).toBeUndefined()
    expect(store.error).toBeInstanceOf(ApiError)
  })

  it('disables a server (forgetting its tools) and removes one', async () => {
    const store = useMcpStore()
    api.list.mockResolvedValue([server('time'), server('other')])
    await store.load()
    store.tools.time = { ok: true, error: null, params: {}, tools: [] }
    api.update.mockResolvedValue(server('time', { enabled: false }))
    await store.setEnabled('time', false)
    expect(api.update).toHaveBeenCalledWith('time', { enabled: false })
    expect([store.list[0].enabled, store.tools.time]).toEqual([false, undefined])
    api.remove.mockResolvedValue(null)
    await store.remove('other')
    expect(store.list.map((s) => s.id)).toEqual(['time'])
  })

  it('keeps a refused server as the form error', async () => {
    const store = useMcpStore()
    const refused = new ApiError(409, 'an MCP server named "time" already exists', 'conflict')
    api.create.mockRejectedValue(refused)
    expect(await store.create({ name: 'time', transport: 'stdio', command: 'x' })).toBeUndefined()
    expect(store.error).toBe(refused)
  })
})
