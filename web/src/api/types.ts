/**
 * The sidecar API's shapes, named for the UI. They come from `schema.d.ts`, which
 * scripts/api-types.sh generates from the sidecar's OpenAPI schema (and scripts/test.sh checks is
 * current), so a changed Pydantic model shows up here as a type error, not a runtime surprise.
 * Only the JSON columns the schema cannot describe (message parts, citations) are written out.
 */
import type { components } from './schema'

type Schemas = components['schemas']
/** A request body whose fields `K` have server-side defaults, so the UI may leave them out. */
type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>

export type Health = Schemas['Health']
export type Conversation = Schemas['ConversationOut']
export type SearchHit = Schemas['SearchHit']
/** Who answers next: agent, provider and model, as the sidecar's chat engine will pick them. */
export type ModelChoice = Schemas['ModelChoiceOut']
export type Provider = Schemas['ProviderOut']
export type ProviderKind = Schemas['ProviderCreate']['kind']
export type ProviderCreate = WithDefaults<Schemas['ProviderCreate'], 'enabled'>
export type ProviderUpdate = Schemas['ProviderUpdate']
export type ConnectionVerdict = Schemas['ConnectionVerdict']
export type AgentFields = Schemas['AgentFields']
export type Agent = Schemas['AgentOut']
export type AgentCreate = Schemas['AgentCreate']
export type AgentExport = Schemas['AgentExport']
export type ToolInfo = Schemas['ToolInfo']
export type DetectedServer = Schemas['DetectedServer']
export type McpServer = Schemas['McpServerOut']
export type McpServerCreate = WithDefaults<Schemas['McpServerCreate'], 'args' | 'env' | 'headers' | 'enabled' | 'trusted'>
export type McpToolList = Schemas['McpToolList']
export type McpServerUpdate = Schemas['McpServerUpdate']
export type KnowledgeBase = Schemas['KnowledgeBaseOut']
export type KnowledgeBaseFields = WithDefaults<
  Schemas['KnowledgeBaseCreate'],
  'description' | 'embedder' | 'chunk_tokens' | 'chunk_overlap'
>
export type KnowledgeFile = Schemas['KnowledgeFileOut']
export type KnowledgeFileStatus = KnowledgeFile['status']
export type KnowledgeSearchRequest = WithDefaults<Schemas['SearchRequest'], 'top_k' | 'mode' | 'mmr'>
export type KnowledgeSearchMode = NonNullable<KnowledgeSearchRequest['mode']>
export type KnowledgeHit = Schemas['SearchHitOut']
export type KnowledgeSearchResult = Schemas['SearchOut']
export type SystemInfo = Schemas['SystemInfo']
export type Attachment = Schemas['AttachmentOut']

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

/** A file attached to a user message (its text went to the model with it). */
export interface AttachmentPart {
  type: 'attachment'
  id: string
  name: string
  size: number
  chars: number
  truncated: boolean
}

export type MessagePart = ToolCallPart | ToolResultPart | NoticePart | PlanPart | AttachmentPart

/** A message; its `parts` and `citations` are JSON columns, typed here by hand. */
export type Message = Omit<Schemas['MessageOut'], 'parts' | 'citations' | 'status' | 'usage'> & {
  status: MessageStatus
  usage: { prompt_tokens: number; completion_tokens: number } | null
  parts: MessagePart[]
  /** The knowledge sources behind the reply's `[n]` markers, if its agent has knowledge bases. */
  citations?: Citation[] | null
}

/** One numbered source behind a `[n]` marker in a reply (`knowledge/citations.py`). */
export interface Citation {
  number: number
  chunkId: number
  kbId: string
  fileId: string
  fileName: string
  heading: string | null
  page: number | null
  charStart: number
  charEnd: number
  snippet: string
  score: number
}
