/**
 * Response shapes of the sidecar API, mirroring its Pydantic models (src-python/sage_sidecar/
 * schemas). Hand-written for now; docs/architecture.md lists generating them from
 * /api/openapi.json as a known gap.
 */
export interface Health {
  status: 'ok' | 'degraded'
  version: string
  uptime_s: number
  db: { ok: boolean; revision: string | null }
}

export interface Conversation {
  id: string
  agent_id: string | null
  title: string
  created_at: string
  updated_at: string
}

export type MessageStatus = 'streaming' | 'completed' | 'interrupted' | 'failed'

export interface ToolCallPart {
  type: 'tool_call'
  id: string
  name: string
  arguments: string
}

export interface ToolResultPart {
  type: 'tool_result'
  id: string
  name: string
  content: string
  isError: boolean
  durationMs: number
}

export interface NoticePart {
  type: 'notice'
  text: string
}

export interface PlanPart {
  type: 'plan'
  steps: { index: number; title: string; status: string; corrective?: boolean }[]
  check?: { ok: boolean; fix: string | null }
}

export type MessagePart = ToolCallPart | ToolResultPart | NoticePart | PlanPart

export interface Message {
  id: string
  conversation_id: string
  seq: number
  role: 'user' | 'assistant'
  content: string
  parts: MessagePart[]
  status: MessageStatus
  error: string | null
  model: string | null
  usage: { prompt_tokens: number; completion_tokens: number } | null
  created_at: string
  first_token_at: string | null
  completed_at: string | null
}

export interface SearchHit {
  conversation_id: string
  title: string
  message_id: string | null
  snippet: string
}

export type ProviderKind = 'openai' | 'ollama' | 'lmstudio' | 'anthropic'

export interface Provider {
  id: string
  name: string
  kind: ProviderKind
  base_url: string
  default_model: string | null
  enabled: boolean
  has_api_key: boolean
}

export interface ProviderCreate {
  name: string
  kind: ProviderKind
  base_url?: string | null
  api_key?: string | null
  default_model?: string | null
}

export interface ConnectionVerdict {
  ok: boolean
  verdict: 'ok' | 'bad_key' | 'unreachable' | 'wrong_url' | 'error'
  message: string
  models: string[]
}

export interface AgentFields {
  name: string
  avatar: string
  system_prompt: string
  model: string | null
  temperature: number | null
  max_tokens: number | null
  tools: string[]
  mode: 'chat' | 'plan'
}

export interface Agent extends AgentFields {
  id: string
  provider_id: string | null
  approved_tools: string[]
  is_default: boolean
}

export interface AgentExport {
  format: 'sage.agent.v1'
  agent: AgentFields
}

export interface ToolInfo {
  name: string
  description: string
  needs_approval: boolean
}

export interface DetectedServer {
  kind: ProviderKind
  base_url: string
  models: string[]
}

export interface McpServer {
  id: string
  name: string
  transport: 'stdio' | 'http'
  command: string | null
  args: string[]
  env_keys: string[]
  url: string | null
  header_keys: string[]
  enabled: boolean
  trusted: boolean
}

export interface McpServerCreate {
  name: string
  transport: 'stdio' | 'http'
  command?: string | null
  args?: string[]
  env?: Record<string, string>
  url?: string | null
  headers?: Record<string, string>
  trusted?: boolean
}

export interface McpToolList {
  ok: boolean
  error: string | null
  tools: { name: string; description: string }[]
}
