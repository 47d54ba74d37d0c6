/**
 * The sidecar API's shapes, named for the UI. They come from `schema.d.ts`, which
 * scripts/api-types.sh generates from the sidecar's OpenAPI schema (and scripts/test.sh checks is
 * current), so a changed Pydantic model shows up here as a type error, not a runtime surprise.
 * The WebSocket frames are in the schema too (the sidecar publishes them in its components).
 */
import type { components } from './schema'

type Schemas = components['schemas']
/** A request body whose fields `K` have server-side defaults, so the UI may leave them out. */
type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>

export type Health = Schemas['Health']
export type Conversation = Schemas['ConversationOut']
export type SearchHit = Schemas['SearchHit']
/** What a history import found (a preview) or did. */
export type ImportReport = Schemas['ImportReport']
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
export type Capabilities = Schemas['Capabilities']
export type Approval = Schemas['ApprovalOut']
export type AuditEvent = Schemas['AuditEventOut']
export type AuditExport = Schemas['AuditExport']
export type AuditSettings = Schemas['AuditSettings']
export type SecretsStatus = Schemas['SecretsStatusOut']
export type DatabaseEncryption = Schemas['DatabaseEncryptionOut']
export type ToolInfo = Schemas['ToolInfo']
export type DetectedServer = Schemas['DetectedServer']
export type McpServer = Schemas['McpServerOut']
export type McpServerCreate = WithDefaults<Schemas['McpServerCreate'], 'args' | 'env' | 'headers' | 'enabled' | 'trusted'>
export type McpToolList = Schemas['McpToolList']
export type McpServerUpdate = Schemas['McpServerUpdate']
export type Prompt = Schemas['PromptOut']
export type PromptCreate = WithDefaults<Schemas['PromptCreate'], 'description'>
export type PromptUpdate = Schemas['PromptUpdate']
export type PromptExport = WithDefaults<Schemas['PromptExport'], 'format' | 'version'>
export type PromptImportResult = Schemas['PromptImportResult']
export type NetworkSettings = WithDefaults<Schemas['NetworkSettings'], 'mode' | 'bypass' | 'extra_ca_pem' | 'extra_ca_path' | 'proxy_url'>
export type NetworkSettingsOut = Schemas['NetworkSettingsOut']
export type NetworkCheckResult = Schemas['NetworkCheckResult']
export type WebSearchSettings = Schemas['WebSearchSettingsOut']
export type WebSearchSettingsIn = Partial<Schemas['WebSearchSettingsIn']>
export type WebSearchTestResult = Schemas['WebSearchTestResult']
export type RestoreStaged = Schemas['RestoreStaged']
export type RestoreStatus = Schemas['RestoreStatus']
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

/** A message; its JSON columns (`parts`, `citations`, `usage`) are typed by the sidecar's
 * models (schemas/protocol/parts.py), camelCase like the frames that streamed them. */
export type Message = Schemas['MessageOut']
/** Why a reply failed (`message.failure`, and the `message.failed` frame): what the UI words. */
export type Failure = Schemas['Failure']
export type MessageStatus = Message['status']
export type MessagePart = Schemas['MessagePart']
export type ToolCallPart = Schemas['ToolCallPart']
export type ToolResultPart = Schemas['ToolResultPart']
export type NoticePart = Schemas['NoticePart']
export type PlanPart = Schemas['PlanPart']
export type PlanStep = Schemas['PlanStep']
export type PlanCheck = Schemas['PlanCheck']
/** A file attached to a user message (its text went to the model with it). */
export type AttachmentPart = Schemas['AttachmentPart']
export type ReasoningPart = Schemas['ReasoningPart']
/** Where the history was cut to fit the model's context window (services/context). */
export type ContextPart = Schemas['ContextPart']
/** Model parameters a conversation sets over its agent's (each null: the agent's). */
export type ModelParams = Schemas['ModelParams']
export type ReasoningEffort = NonNullable<ModelParams['reasoning_effort']>
export type ContextSettings = Schemas['ContextSettings']
/** An image attached to a user message (GET /api/attachments/{id}/image). */
export type ImagePart = Schemas['ImagePart']
/** One numbered source behind a `[n]` marker in a reply. */
export type Citation = Schemas['Citation']
export type Usage = Schemas['Usage']

/** The WebSocket protocol (docs/protocol.md), generated from schemas/protocol. */
export type ClientChatFrame = Schemas['ClientChatFrame']
export type ServerChatFrame = Schemas['ServerChatFrame']
export type ServerChatFrameType = ServerChatFrame['type']
/** One `/ws/chat` frame of the given type. */
export type ServerChatFrameOf<T extends ServerChatFrameType> = Extract<ServerChatFrame, { type: T }>
export type AuthFrame = Schemas['AuthFrame']
/** A `/ws/events` frame: `hello`, then what the sidecar publishes. */
export type SageEvent = Schemas['EventFrame']
export type SageEventOf<T extends SageEvent['type']> = Extract<SageEvent, { type: T }>
/** Codes of sidecar texts the UI translates (`chat.code.*`). */
export type NoticeCode = NonNullable<NoticePart['code']>
export type FailureCode = NonNullable<Failure['code']>
export type FailureReason = Failure['reason']

/** Runs and traces (services/traces): what a reply did, step by step, and what it cost. */
export type RunTrace = Schemas['RunTrace']
export type RunSummary = Schemas['RunSummary']
export type RunStep = Schemas['StepOut']
export type RunTotals = Schemas['Totals']
export type ConversationRuns = Schemas['ConversationRuns']
export type DailyUsage = Schemas['DailyUsage']
export type ModelPrice = Schemas['PriceOut']
export type ModelPriceIn = Schemas['PriceIn']
export type TraceSettings = Schemas['TraceSettings']
export type ReplayResult = Schemas['ReplayOut']

/** Agents' workspaces (services/workspace.py): files, trash and previews. */
export type Workspace = Schemas['WorkspaceOut']
export type WorkspaceEntry = Schemas['WorkspaceEntryOut']
export type WorkspaceTrashItem = Schemas['TrashItemOut']
export type WorkspacePreview = Schemas['PreviewOut']
