import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { ApiError, type Agent } from '@/api'

const api = vi.hoisted(() => ({
  agents: { list: vi.fn(), create: vi.fn(), update: vi.fn(), remove: vi.fn(), export: vi.fn(), import: vi.fn(), modelChoice: vi.fn() },
  conversations: { modelChoice: vi.fn() },
  tools: { list: vi.fn() },
}))

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, ...api }))

import { useAgentsStore } from './agents'

const agent = (id: string, extra: Partial<Agent> = {}) => ({ id, name: id, avatar: '🌿', is_default: false, ...extra }) as Agent

beforeEach(() => {
  setActivePinia(createPinia())
  for (const group of Object.values(api)) Object.values(group).forEach((fn) => fn.mockReset())
})

describe('agents store', () => {
  it('loads agents and knows the default one', async () => {
    const store = useAgentsStore()
    api.agents.list.mockResolvedValue([agent('a'), agent('sage', { is_default: true })])
    await store.load()
    expect(store.defaultAgent?.id).toBe('sage')
    expect(store.byId('a')?.name).toBe('a')
    expect(store.byId(null)).toBeNull()
  })

  it('creates, updates, imports and removes agents in the shared list', async () => {
    const store = useAgentsStore()
    api.agents.create.mockResolvedValue(agent('a'))
    await store.create({ name: 'a' })
    api.agents.update.mockResolvedValue(agent('a', { name: 'renamed' }))
    await store.update('a', { name: 'renamed' })
    api.agents.import.mockResolvedValue(agent('b'))
    await store.importAgent({ format: 'sage.agent.v1', agent: { name: 'b' } } as never)
    expect(store.list.map((a) => a.name)).toEqual(['renamed', 'b'])
    api.agents.remove.mockResolvedValue(null)
    await store.remove('a')
    expect(store.list.map((a) => a.id)).toEqual(['b'])
  })

  it('keeps a refusal as the screen error and the list as it was', async () => {
    const store = useAgentsStore()
    api.agents.list.mockResolvedValue([agent('sage', { is_default: true })])
    await store.load()
    const refused = new ApiError(409, 'the default agent cannot be deleted', 'conflict')
    api.agents.remove.mockRejectedValue(refused)
    await store.remove('sage')
    expect(store.error).toBe(refused)
    expect(store.list).toHaveLength(1)
  })

  it('asks the sidecar who answers a conversation or a new chat with an agent', async () => {
    const store = useAgentsStore()
    const choice = { agent_id: 'a', provider_id: 'p', provider_name: 'P', model: 'm', default_model: 'm' }
    api.conversations.modelChoice.mockResolvedValue(choice)
    api.agents.modelChoice.mockResolvedValue({ ...choice, model: 'n' })
    expect(await store.modelChoice({ conversationId: 'c1' })).toEqual(choice)
    expect(api.conversations.modelChoice).toHaveBeenCalledWith('c1')
    expect((await store.modelChoice({ agentId: 'a' }))?.model).toBe('n')
    api.conversations.modelChoice.mockRejectedValue(new ApiError(404, 'gone'))
    expect(await store.modelChoice({ conversationId: 'gone' })).toBeNull()
  })

  it('loads the built-in tools agents can use', async () => {
    const store = useAgentsStore()
    api.tools.list.mockResolvedValue([{ name: 'calculator', description: '', needs_approval: false }])
    await store.loadTools()
    expect(store.tools.map((t) => t.name)).toEqual(['calculator'])
  })
})
