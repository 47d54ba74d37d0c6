/** Settings → Knowledge's shapes (sidecar api/routes/knowledge_settings.py), generated in schema.d.ts. */
import type { components } from './schema'

type Schemas = components['schemas']
export type KnowledgeSettings = Schemas['KnowledgeSettingsOut']
export type ChunkingDefaults = Schemas['ChunkingDefaults']
