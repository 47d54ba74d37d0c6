/** Agents, the built-in tools they can use, and who answers a conversation (the sidecar says). */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import {
  agents as api,
  conversations as conversationsApi,
  tools as toolsApi,
  type Agent,
  type AgentCreate,
  type AgentExport,
  type ModelChoice,
  type ToolInfo,
} from '@/api'
import { useLastError } from './lastError'

type AgentBody = Partial<AgentCreate>

export const useAgentsStore = defineStore('agents', () => {
  const list = ref<Agent[]>([])
  const tools = ref<ToolInfo[]>([])
  const { error, attempt } = useLastError()

  const defaultAgent = computed(() => list.value.find((a) => a.is_default) ?? null)
  const byId = (id: string | null | undefined): Agent | null => list.value.find((a) => a.id === id) ?? null

  async function load(): Promise<void> {
    const agents = await attempt(() => api.list())
    if (agents) list.value = agents
  }

  async function loadTools(): Promise<void> {
    const found = await attempt(() => toolsApi.list())
    if (found) tools.value = found
  }

  async function create(body: AgentBody): Promise<Agent | undefined> {
    const created = await attempt(() => api.create(body))
    if (created) list.value = [...list.value, created]
    return created
  }

  async function update(id: string, body: AgentBody): Promise<Agent | undefined> {
    const updated = await attempt(() => api.update(id, body))
    if (updated) list.value = list.value.map((a) => (a.id === id ? updated : a))
    return updated
  }

  async function remove(id: string): Promise<void> {
    if ((await attempt(() => api.remove(id))) === null) list.value = list.value.filter((a) => a.id !== id)
  }

  const exportAgent = (id: string): Promise<AgentExport | undefined> => attempt(() => api.export(id))

  async function importAgent(data: AgentExport): Promise<Agent | undefined> {
    const created = await attempt(() => api.import(data))
    if (created) list.value = [...list.value, created]
    return created
  }

  /**
   * Who answers next in a conversation, or in a new one with an agent: the sidecar's own choice of
   * agent, provider and model (the UI never guesses it). Null when it cannot be asked.
   */
  async function modelChoice(target: { conversationId: string } | { agentId: string }): Promise<ModelChoice | null> {
    const ask = () =>
      'conversationId' in target ? conversationsApi.modelChoice(target.conversationId) : api.modelChoice(target.agentId)
    return (await ask().catch(() => null)) ?? null
  }

  return {
    list, tools, error, defaultAgent, byId,
    load, loadTools, create, update, remove, exportAgent, importAgent, modelChoice,
  }
})
