import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { ApiError, type Provider } from '@/api'

const api = vi.hoisted(() => ({
  list: vi.fn(),
  create: vi.fn(),
  update: vi.fn(),
  remove: vi.fn(),
  test: vi.fn(),
  detect: vi.fn(),
  models: vi.fn(),
}))

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, providers: api }))

import { useProvidersStore } from './providers'

const provider = (id: string, extra: Partial<Provider> = {}) =>
  ({ id, name: id, kind: 'openai', base_url: 'http://127.0.0.1:9/v1', default_model: null, enabled: true, has_api_key: false, ...extra }) as Provider

beforeEach(() => {
  setActivePinia(createPinia())
  Object.values(api).forEach((fn) => fn.mockReset())
})

describe('providers store', () => {
  it('loads the list once for every screen and says whether one is set up', async () => {
    const store = useProvidersStore()
    expect(store.loaded).toBe(false)
    api.list.mockResolvedValue([])
    await store.load()
    expect([store.loaded, store.hasProvider]).toEqual([true, false])
    api.create.mockResolvedValue(provider('p1'))
    await store.create({ name: 'p1', kind: 'openai' })
    expect(store.hasProvider).toBe(true)
    expect(store.list.map((p) => p.id)).toEqual(['p1'])
  })

  it('keeps a failure as the screen error, and clears it on the next action', async () => {
    const store = useProvidersStore()
    const refused = new ApiError(422, 'base_url: not a URL')
    api.create.mockRejectedValue(refused)
    expect(await store.create({ name: 'x', kind: 'openai', base_url: 'nope' })).toBeUndefined()
    expect(store.error).toBe(refused)
    expect(store.list).toEqual([])
    api.list.mockResolvedValue([provider('p1')])
    await store.load()
    expect(store.error).toBeNull()
  })

  it('updates, tests and removes a provider in place', async () => {
    const store = useProvidersStore()
    api.list.mockResolvedValue([provider('p1'), provider('p2')])
    await store.load()
    api.update.mockResolvedValue(provider('p1', { default_model: 'm' }))
    await store.update('p1', { default_model: 'm' })
    expect(store.list[0].default_model).toBe('m')
    api.test.mockResolvedValue({ ok: true, verdict: 'ok', message: '1 models', models: ['m'] })
    await store.test('p2')
    expect(store.verdicts.p2.models).toEqual(['m'])
    api.remove.mockResolvedValue(null)
    await store.remove('p2')
    expect(store.list.map((p) => p.id)).toEqual(['p1'])
    expect(store.verdicts.p2).toBeUndefined()
  })

  it('lists a provider’s models once, and asks again while it has none', async () => {
    const store = useProvidersStore()
    api.models.mockRejectedValueOnce(new ApiError(502, 'offline')).mockResolvedValue(['a', 'b'])
    expect(await store.modelsOf('p1')).toEqual([])
    expect(await store.modelsOf('p1')).toEqual(['a', 'b'])
    expect(await store.modelsOf('p1')).toEqual(['a', 'b'])
    expect(api.models).toHaveBeenCalledTimes(2)
  })

  it('finds local servers, and none when detection fails', async () => {
    const store = useProvidersStore()
    api.detect.mockResolvedValue([{ kind: 'ollama', base_url: 'http://127.0.0.1:11434/v1', models: ['llama'] }])
    expect((await store.detect()).map((s) => s.kind)).toEqual(['ollama'])
    api.detect.mockRejectedValue(new ApiError(0, 'Cannot reach the sidecar'))
    expect(await store.detect()).toEqual([])
    expect(store.detected).toEqual([])
  })
})
