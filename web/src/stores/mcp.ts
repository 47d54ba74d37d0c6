/** MCP servers: their settings, and the tools a running server offers. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { mcpServers as api, type McpServer, type McpServerCreate, type McpToolList } from '@/api'

import { useLastError } from './lastError'

export const useMcpStore = defineStore('mcp', () => {
  const list = ref<McpServer[]>([])
  const { error, attempt } = useLastError()
  /** Per server: its tools (or why it could not start), 'loading' while it starts. */
  const tools = ref<Record<string, McpToolList | 'loading'>>({})

  /** How an agent names all tools of a server (`mcp:<name>`). */
  const toolRefs = computed(() => list.value.map((server) => `mcp:${server.name}`))

  async function load(): Promise<void> {
    const servers = await attempt(() => api.list())
    if (servers) list.value = servers
  }

  async function create(body: McpServerCreate): Promise<McpServer | undefined> {
    const created = await attempt(() => api.create(body))
    if (created) list.value = [...list.value, created]
    return created
  }

  /** A disabled server keeps its settings but offers no tools to agents. */
  async function setEnabled(id: string, enabled: boolean): Promise<void> {
    const updated = await attempt(() => api.update(id, { enabled }))
    if (updated) list.value = list.value.map((s) => (s.id === id ? updated : s))
    delete tools.value[id]
  }

  async function remove(id: string): Promise<void> {
    if ((await attempt(() => api.remove(id))) === null) {
      list.value = list.value.filter((s) => s.id !== id)
      delete tools.value[id]
    }
  }

  /** Start the server (if it is not running) and list its tools. */
  async function loadTools(id: string): Promise<void> {
    tools.value = { ...tools.value, [id]: 'loading' }
    const found = await attempt(() => api.tools(id))
    if (found) tools.value = { ...tools.value, [id]: found }
    else delete tools.value[id]
  }

  return { list, error, tools, toolRefs, load, create, setEnabled, remove, loadTools }
})
