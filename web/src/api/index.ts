/**
 * The one module that knows where the sidecar is, owns the key, HTTP retries and the event
 * socket's reconnects. Views and stores call these functions; they never build URLs.
 */
import { resolveConfig, type ConfigSource, type SageConfig } from './config'
import { EventSocket, type EventSocketOptions } from './events'
import { HttpClient } from './http'
import type { Schedule, SchedulePreview, SchedulerState, Task, TaskCreate, TaskRun, TaskSettings, TaskUpdate } from './tasks'
import type {
  Agent,
  AgentCreate,
  Approval,
  AuditEvent,
  AuditExport,
  AuditSettings,
  ClientChatFrame,
  SageEvent,
  ServerChatFrame,
  Attachment,
  AgentExport,
  ConnectionVerdict,
  DetectedServer,
  McpServer,
  McpServerCreate,
  McpServerUpdate,
  McpToolList,
  NetworkCheckResult,
  NetworkSettings,
  NetworkSettingsOut,
  WebSearchSettings,
  WebSearchSettingsIn,
  WebSearchTestResult,
  RestoreStaged,
  RestoreStatus,
  Prompt,
  PromptCreate,
  PromptExport,
  PromptImportResult,
  PromptUpdate,
  ToolInfo,
  Conversation,
  Health,
  ImportReport,
  KnowledgeBase,
  KnowledgeBaseFields,
  KnowledgeFile,
  KnowledgeHit,
  KnowledgeSearchRequest,
  KnowledgeSearchResult,
  Message,
  ModelChoice,
  Provider,
  ProviderCreate,
  ProviderUpdate,
  SearchHit,
  SystemInfo,
  ConversationRuns,
  DailyUsage,
  ModelPrice,
  ModelPriceIn,
  ReplayResult,
  RunTrace,
  TraceSettings,
  Workspace,
  WorkspaceEntry,
  WorkspacePreview,
  WorkspaceTrashItem,
} from './types'
import type { AgentSkills, Skill, SkillDetail, SkillFileText, SkillUpload } from './skills'
import type { ChunkingDefaults, KnowledgeSettings } from './knowledgeSettings'
import type { DatabaseEncryption, SecretsStatus } from './types'
import type { ContextSettings, ModelParams } from './types'

export { ApiError } from './http'
export type { SageConfig, StartupError, ConfigSource } from './config'
export type { EventSocket, SocketState } from './events'
export type * from './types'

let source: ConfigSource = resolveConfig()
let current: SageConfig | null = source.kind === 'ready' ? source.config : null

function config(): SageConfig {
  if (!current) throw new Error('The sidecar connection is not configured')
  return current
}

/** Requests made before the desktop shell handed over the connection wait for it. */
let waiting: Array<(config: SageConfig) => void> = []

function configWhenReady(): SageConfig | Promise<SageConfig> {
  if (current || source.kind !== 'shell') return config()
  return new Promise((resolve) => waiting.push(resolve))
}

const http = new HttpClient(configWhenReady)

export function configSource(): ConfigSource {
  return source
}

/** Adopt a new connection (the shell restarted the sidecar). Open sockets should reconnect. */
export function setConfig(next: SageConfig): void {
  current = next
  source = { kind: 'ready', config: next }
  const ready = waiting
  waiting = []
  for (const resolve of ready) resolve(next)
}

export function getHealth(signal?: AbortSignal): Promise<Health> {
  return http.request<Health>('/api/health', { signal })
}

export function openEventSocket(options: Omit<EventSocketOptions<SageEvent>, 'path'>): EventSocket<SageEvent> {
  return new EventSocket<SageEvent>(config, { ...options, path: '/ws/events' })
}

export type ChatSocket = EventSocket<ServerChatFrame, ClientChatFrame>

/** The chat stream: send `chat.*` and `tool.approval` frames, receive reply events. */
export function openChatSocket(options: Omit<EventSocketOptions<ServerChatFrame>, 'path'>): ChatSocket {
  return new EventSocket<ServerChatFrame, ClientChatFrame>(config, { ...options, path: '/ws/chat' })
}

const q = encodeURIComponent

/** A multipart body with one `files` field per file. */
function filesForm(files: File[]): FormData {
  const form = new FormData()
  for (const file of files) form.append('files', file, file.name)
  return form
}

export const conversations = {
  list: () => http.request<Conversation[]>('/api/conversations'),
  messages: (id: string) => http.request<Message[]>(`/api/conversations/${q(id)}/messages`),
  search: (text: string) => http.request<SearchHit[]>(`/api/conversations/search?q=${q(text)}`),
  rename: (id: string, title: string) =>
    http.request<Conversation>(`/api/conversations/${q(id)}`, { method: 'PATCH', body: { title } }),
  /** The model the conversation's next replies use; `null` goes back to the agent's. */
  setModel: (id: string, model: string | null) =>
    http.request<Conversation>(`/api/conversations/${q(id)}`, { method: 'PATCH', body: { model } }),
  /** Its own model parameters over its agent's (`null`: the agent's again). */
  setParams: (id: string, params: ModelParams | null) =>
    http.request<Conversation>(`/api/conversations/${q(id)}`, { method: 'PATCH', body: { model_params: params } }),
  remove: (id: string) => http.request<null>(`/api/conversations/${q(id)}`, { method: 'DELETE' }),
  /** The agent, provider and model its next reply will use (the sidecar decides, not the UI). */
  modelChoice: (id: string) => http.request<ModelChoice>(`/api/conversations/${q(id)}/model-choice`),
  exportMarkdown: (id: string) =>
    http.request<string>(`/api/conversations/${q(id)}/export?format=markdown`, { as: 'text' }),
  /** The conversation as Markdown, Sage's JSON (re-importable) or a self-contained HTML page. */
  exportAs: (id: string, format: ExportFormat) =>
    http.request<string>(`/api/conversations/${q(id)}/export?format=${format}`, { as: 'text' }),
  /** Import a ChatGPT/Claude data export or Sage JSON; `dryRun` only counts (the preview). */
  importHistory: (file: Blob, options: { agentId?: string | null; dryRun: boolean }) => {
    const params = new URLSearchParams({ dry_run: String(options.dryRun) })
    if (options.agentId) params.set('agent_id', options.agentId)
    return http.request<ImportReport>(`/api/conversations/import/history?${params}`, { method: 'POST', form: file })
  },
}

export type ExportFormat = 'markdown' | 'json' | 'html'

export const providers = {
  list: () => http.request<Provider[]>('/api/providers'),
  detect: () => http.request<DetectedServer[]>('/api/providers/detect'),
  create: (body: ProviderCreate) => http.request<Provider>('/api/providers', { method: 'POST', body }),
  update: (id: string, body: ProviderUpdate) =>
    http.request<Provider>(`/api/providers/${q(id)}`, { method: 'PATCH', body }),
  test: (id: string) => http.request<ConnectionVerdict>(`/api/providers/${q(id)}/test`, { method: 'POST' }),
  models: (id: string) => http.request<string[]>(`/api/providers/${q(id)}/models`),
  remove: (id: string) => http.request<null>(`/api/providers/${q(id)}`, { method: 'DELETE' }),
}

type AgentBody = Partial<AgentCreate>

export const agents = {
  list: () => http.request<Agent[]>('/api/agents'),
  create: (body: AgentBody) => http.request<Agent>('/api/agents', { method: 'POST', body }),
  update: (id: string, body: AgentBody) => http.request<Agent>(`/api/agents/${q(id)}`, { method: 'PATCH', body }),
  remove: (id: string) => http.request<null>(`/api/agents/${q(id)}`, { method: 'DELETE' }),
  export: (id: string) => http.request<AgentExport>(`/api/agents/${q(id)}/export`),
  /** The provider and model a new conversation with this agent will use. */
  modelChoice: (id: string) => http.request<ModelChoice>(`/api/agents/${q(id)}/model-choice`),
  import: (body: AgentExport) => http.request<Agent>('/api/agents/import', { method: 'POST', body }),
  /** Standing "always" approvals, oldest first; revoking one makes its tool ask again. */
  approvals: (id: string) => http.request<Approval[]>(`/api/agents/${q(id)}/approvals`),
  revokeApproval: (id: string, approvalId: string) =>
    http.request<null>(`/api/agents/${q(id)}/approvals/${q(approvalId)}`, { method: 'DELETE' }),
}

/** Filters of the audit log; empty values are left out. */
export interface AuditFilters {
  agent_id?: string
  tool?: string
  decision?: string
  since?: string
  until?: string
}

function auditQuery(filters: AuditFilters): string {
  const pairs = Object.entries(filters).filter(([, v]) => v)
  return pairs.length ? `?${pairs.map(([k, v]) => `${k}=${q(String(v))}`).join('&')}` : ''
}

export const audit = {
  list: (filters: AuditFilters = {}) => http.request<AuditEvent[]>(`/api/audit${auditQuery(filters)}`),
  export: (filters: AuditFilters = {}) => http.request<AuditExport>(`/api/audit/export${auditQuery(filters)}`),
  settings: () => http.request<AuditSettings>('/api/audit/settings'),
  setSettings: (body: AuditSettings) => http.request<AuditSettings>('/api/audit/settings', { method: 'PUT', body }),
}

export const tools = {
  list: () => http.request<ToolInfo[]>('/api/tools'),
}

export const mcpServers = {
  list: () => http.request<McpServer[]>('/api/mcp-servers'),
  create: (body: McpServerCreate) => http.request<McpServer>('/api/mcp-servers', { method: 'POST', body }),
  update: (id: string, body: McpServerUpdate) =>
    http.request<McpServer>(`/api/mcp-servers/${q(id)}`, { method: 'PATCH', body }),
  remove: (id: string) => http.request<null>(`/api/mcp-servers/${q(id)}`, { method: 'DELETE' }),
  tools: (id: string) => http.request<McpToolList>(`/api/mcp-servers/${q(id)}/tools`),
}

/** The prompt library (`/` in the composer). */
export const prompts = {
  list: () => http.request<Prompt[]>('/api/prompts'),
  create: (body: PromptCreate) => http.request<Prompt>('/api/prompts', { method: 'POST', body }),
  update: (id: string, body: PromptUpdate) => http.request<Prompt>(`/api/prompts/${q(id)}`, { method: 'PATCH', body }),
  remove: (id: string) => http.request<null>(`/api/prompts/${q(id)}`, { method: 'DELETE' }),
  exportAll: () => http.request<PromptExport>('/api/prompts/export'),
  importAll: (body: PromptExport) =>
    http.request<PromptImportResult>('/api/prompts/import', { method: 'POST', body }),
}

/** Settings → Network: the proxy and extra CAs every outgoing connection uses. */
export const network = {
  get: () => http.request<NetworkSettingsOut>('/api/network'),
  save: (body: NetworkSettings) => http.request<NetworkSettingsOut>('/api/network', { method: 'PUT', body }),
  check: (url: string) => http.request<NetworkCheckResult>('/api/network/check', { method: 'POST', body: { url } }),
}

/** Settings → Web search: the `web_search` tool's search API (the key is write-only). */
export const webSearch = {
  get: () => http.request<WebSearchSettings>('/api/web-search'),
  save: (body: WebSearchSettingsIn) => http.request<WebSearchSettings>('/api/web-search', { method: 'PUT', body }),
  test: (query: string) => http.request<WebSearchTestResult>('/api/web-search/test', { method: 'POST', body: { query } }),
}

/** Settings → Data → Restore: an "export everything" zip, checked now, swapped in at the next start. */
export const restore = {
  status: () => http.request<RestoreStatus>('/api/system/restore'),
  stage: (file: File) => {
    const form = new FormData()
    form.append('file', file, file.name)
    return http.request<RestoreStaged>('/api/system/restore', { method: 'POST', form })
  },
  discard: () => http.request<null>('/api/system/restore', { method: 'DELETE' }),
}

export const knowledge = {
  list: () => http.request<KnowledgeBase[]>('/api/knowledge/bases'),
  create: (body: KnowledgeBaseFields) =>
    http.request<KnowledgeBase>('/api/knowledge/bases', { method: 'POST', body }),
  update: (id: string, body: Partial<KnowledgeBaseFields>) =>
    http.request<KnowledgeBase>(`/api/knowledge/bases/${q(id)}`, { method: 'PATCH', body }),
  remove: (id: string) => http.request<null>(`/api/knowledge/bases/${q(id)}`, { method: 'DELETE' }),
  reindex: (id: string) => http.request<KnowledgeBase>(`/api/knowledge/bases/${q(id)}/reindex`, { method: 'POST' }),
  files: (id: string) => http.request<KnowledgeFile[]>(`/api/knowledge/bases/${q(id)}/files`),
  upload: (id: string, files: File[]) =>
    http.request<KnowledgeFile[]>(`/api/knowledge/bases/${q(id)}/files`, { method: 'POST', form: filesForm(files) }),
  /** Files picked in the desktop app's dialog: the sidecar copies them from these paths. */
  addPaths: (id: string, paths: string[]) =>
    http.request<KnowledgeFile[]>(`/api/knowledge/bases/${q(id)}/files/paths`, { method: 'POST', body: { paths } }),
  removeFile: (id: string, fileId: string) =>
    http.request<null>(`/api/knowledge/bases/${q(id)}/files/${q(fileId)}`, { method: 'DELETE' }),
  search: (body: KnowledgeSearchRequest) =>
    http.request<KnowledgeSearchResult>('/api/knowledge/search', { method: 'POST', body }),
  chunk: (chunkId: number) => http.request<KnowledgeHit>(`/api/knowledge/chunks/${chunkId}`),
}

/** Settings → Knowledge: chunking defaults for new bases, and what the knowledge parts use. */
export const knowledgeSettings = {
  get: () => http.request<KnowledgeSettings>('/api/knowledge/settings'),
  saveDefaults: (body: ChunkingDefaults) =>
    http.request<ChunkingDefaults>('/api/knowledge/settings/defaults', { method: 'PUT', body }),
}

export const system = {
  info: () => http.request<SystemInfo>('/api/system'),
  /** Everything in one zip (secrets removed): see services/backup.py. */
  exportAll: () => http.request<Blob>('/api/system/export', { as: 'blob' }),
}

/** Settings → Privacy: whether stored secrets are encrypted, and the keychain holding their key. */
export const privacy = {
  secrets: () => http.request<SecretsStatus>('/api/privacy/secrets'),
  /** Look for the keychain again (after unlocking one) and encrypt what was stored without it. */
  retryKeychain: () => http.request<SecretsStatus>('/api/privacy/secrets/retry', { method: 'POST' }),
  /** Whether the database is encrypted, and a change the next start of the sidecar carries out. */
  database: () => http.request<DatabaseEncryption>('/api/privacy/database'),
  setDatabase: (encrypted: boolean) =>
    http.request<DatabaseEncryption>('/api/privacy/database', { method: 'PUT', body: { encrypted } }),
}

export const attachments = {
  /** Files for the next message; send their ids with it (`chat.send`). */
  upload: (files: File[]) => http.request<Attachment[]>('/api/attachments', { method: 'POST', form: filesForm(files) }),
  /** An attached image as stored (downscaled): thumbnails and the full view. */
  image: (id: string) => http.request<Blob>(`/api/attachments/${q(id)}/image`, { as: 'blob' }),
}

export const runs = {
  /** The trace of the run that wrote this reply. */
  forMessage: (messageId: string) => http.request<RunTrace>(`/api/messages/${q(messageId)}/trace`),
  get: (id: string) => http.request<RunTrace>(`/api/runs/${q(id)}`),
  ofConversation: (id: string) => http.request<ConversationRuns>(`/api/conversations/${q(id)}/runs`),
  export: (id: string) => http.request<Blob>(`/api/runs/${q(id)}/export`, { as: 'blob' }),
  /** Its model requests sent again to the scripted test provider (no tokens spent). */
  replay: (id: string) => http.request<ReplayResult>(`/api/runs/${q(id)}/replay`, { method: 'POST' }),
  usageDaily: (days = 30) => http.request<DailyUsage[]>(`/api/usage/daily?days=${days}`),
  prices: () => http.request<ModelPrice[]>('/api/prices'),
  setPrice: (body: ModelPriceIn) => http.request<ModelPrice>('/api/prices', { method: 'PUT', body }),
  resetPrice: (model: string) => http.request<null>(`/api/prices?model=${q(model)}`, { method: 'DELETE' }),
  settings: () => http.request<TraceSettings>('/api/traces/settings'),
  setSettings: (body: TraceSettings) => http.request<TraceSettings>('/api/traces/settings', { method: 'PUT', body }),
}

/** A file to upload into a workspace, with its path under the chosen folder (a dropped folder's
 * files keep their relative paths: `photos/2024/a.jpg`). */
export interface WorkspaceUpload {
  file: File
  path: string
}

const ws = (agentId: string, route = '') => `/api/workspaces/${q(agentId)}${route}`

export const workspaces = {
  get: (agentId: string) => http.request<Workspace>(ws(agentId)),
  upload: (agentId: string, uploads: WorkspaceUpload[], folder = '') => {
    const form = new FormData()
    for (const { file, path } of uploads) form.append('files', file, path)
    return http.request<WorkspaceEntry[]>(`${ws(agentId, '/files')}?folder=${q(folder)}`, { method: 'POST', form })
  },
  preview: (agentId: string, path: string) => http.request<WorkspacePreview>(`${ws(agentId, '/preview')}?path=${q(path)}`),
  /** The bytes of an image, PDF or HTML file for its preview (served inert: no script, no request). */
  raw: (agentId: string, path: string) => http.request<Blob>(`${ws(agentId, '/raw')}?path=${q(path)}`, { as: 'blob' }),
  download: (agentId: string, path: string) => http.request<Blob>(`${ws(agentId, '/download')}?path=${q(path)}`, { as: 'blob' }),
  makeFolder: (agentId: string, path: string) =>
    http.request<WorkspaceEntry>(ws(agentId, '/folders'), { method: 'POST', body: { path } }),
  /** Rename or move: `to` is the entry's new path. */
  move: (agentId: string, from: string, to: string) =>
    http.request<WorkspaceEntry>(ws(agentId, '/move'), { method: 'POST', body: { from_path: from, to_path: to } }),
  remove: (agentId: string, path: string) =>
    http.request<WorkspaceTrashItem>(`${ws(agentId, '/files')}?path=${q(path)}`, { method: 'DELETE' }),
  trash: (agentId: string) => http.request<WorkspaceTrashItem[]>(ws(agentId, '/trash')),
  restore: (agentId: string, trashId: string) =>
    http.request<WorkspaceEntry>(ws(agentId, `/trash/${q(trashId)}/restore`), { method: 'POST' }),
  emptyTrash: (agentId: string) => http.request<null>(ws(agentId, '/trash'), { method: 'DELETE' }),
}

export type { Skill, SkillDetail, SkillFileText, SkillUpload } from './skills'
export { pickSkillFolder } from './skills'

const sk = (id: string, route = '') => `/api/skills/${q(id)}${route}`

export const skills = {
  list: () => http.request<Skill[]>('/api/skills'),
  get: (id: string) => http.request<SkillDetail>(sk(id)),
  /** A `.zip` (one file) or a folder's files, each named by its path in the folder. `replace`:
   * a skill of the same name is replaced (otherwise 409 `skill.exists`). */
  import: (uploads: SkillUpload[], replace = false) => {
    const form = new FormData()
    for (const { file, path } of uploads) form.append('files', file, path)
    return http.request<Skill>(`/api/skills/import?replace=${replace}`, { method: 'POST', form })
  },
  /** A folder or .zip on this computer by absolute path (the desktop's folder dialog). */
  importPath: (path: string, replace = false) =>
    http.request<Skill>('/api/skills/import-path', { method: 'POST', body: { path, replace } }),
  file: (id: string, path: string) => http.request<SkillFileText>(`${sk(id, '/file')}?path=${q(path)}`),
  saveSkillMd: (id: string, skillMd: string) =>
    http.request<Skill>(sk(id, '/skill-md'), { method: 'PUT', body: { skill_md: skillMd } }),
  remove: (id: string) => http.request<null>(sk(id), { method: 'DELETE' }),
  export: (id: string) => http.request<Blob>(sk(id, '/export'), { as: 'blob' }),
  restoreBuiltin: () => http.request<Skill[]>('/api/skills/builtin/restore', { method: 'POST' }),
  ofAgent: (agentId: string) => http.request<AgentSkills>(`/api/agents/${q(agentId)}/skills`),
  setForAgent: (agentId: string, skillIds: string[]) =>
    http.request<AgentSkills>(`/api/agents/${q(agentId)}/skills`, { method: 'PUT', body: { skill_ids: skillIds } }),
}

export type * from './tasks'

const tk = (id: string, route = '') => `/api/tasks/${q(id)}${route}`

/** Scheduled tasks (docs/tasks.md): CRUD, run now, history, the schedule preview, pause all. */
export const tasks = {
  list: () => http.request<Task[]>('/api/tasks'),
  create: (body: TaskCreate) => http.request<Task>('/api/tasks', { method: 'POST', body }),
  update: (id: string, body: TaskUpdate) => http.request<Task>(tk(id), { method: 'PATCH', body }),
  remove: (id: string) => http.request<null>(tk(id), { method: 'DELETE' }),
  runNow: (id: string) => http.request<TaskRun>(tk(id, '/run'), { method: 'POST' }),
  runs: (id: string) => http.request<TaskRun[]>(tk(id, '/runs')),
  preview: (schedule: Schedule, timezone: string, count = 5) =>
    http.request<SchedulePreview>('/api/tasks/preview', { method: 'POST', body: { schedule, timezone, count } }),
  scheduler: () => http.request<SchedulerState>('/api/tasks/scheduler'),
  setPaused: (paused: boolean) => http.request<SchedulerState>('/api/tasks/scheduler', { method: 'PUT', body: { paused } }),
  settings: () => http.request<TaskSettings>('/api/tasks/settings'),
  setSettings: (body: TaskSettings) => http.request<TaskSettings>('/api/tasks/settings', { method: 'PUT', body }),
}

/** Settings → Chat: the context window of a model nobody says the size of (services/context). */
export const context = {
  settings: () => http.request<ContextSettings>('/api/context/settings'),
  saveSettings: (body: ContextSettings) =>
    http.request<ContextSettings>('/api/context/settings', { method: 'PUT', body }),
}
