/**
 * Applying the sidecar's `knowledge.file` / `knowledge.base` events (docs/knowledge.md) to the
 * lists the Knowledge screen shows. Pure functions, so ingest progress can be tested without a
 * socket.
 */
import type { KnowledgeBase, KnowledgeFile, KnowledgeFileStatus, SageEvent } from '@/api'

export interface KnowledgeState {
  bases: KnowledgeBase[]
  /** Files per knowledge base id, for the bases whose files were loaded. */
  files: Record<string, KnowledgeFile[]>
}

interface FileEvent {
  kb_id: string
  file_id: string
  name: string
  status: KnowledgeFileStatus | 'deleted'
  progress: number
  error: string | null
  chunk_count: number
}

interface BaseEvent {
  kb_id: string
  status: KnowledgeBase['status'] | 'deleted'
  file_count: number
  chunk_count: number
}

export function applyKnowledgeEvent(state: KnowledgeState, event: SageEvent): void {
  if (event.type === 'knowledge.file') applyFileEvent(state, event as unknown as FileEvent)
  else if (event.type === 'knowledge.base') applyBaseEvent(state, event as unknown as BaseEvent)
}

function applyFileEvent(state: KnowledgeState, event: FileEvent): void {
  const files = state.files[event.kb_id]
  if (!files) return // that base's files are not on screen; they load fresh when opened
  const index = files.findIndex((file) => file.id === event.file_id)
  if (event.status === 'deleted') {
    if (index >= 0) files.splice(index, 1)
    return
  }
  const changes = { status: event.status, progress: event.progress, error: event.error, chunk_count: event.chunk_count }
  if (index >= 0) Object.assign(files[index], changes)
  else files.unshift(placeholderFile(event, changes))
}

/** A file another window (or the desktop dialog) added: enough to show until the next load. */
function placeholderFile(event: FileEvent, changes: Partial<KnowledgeFile>): KnowledgeFile {
  const now = new Date().toISOString()
  return {
    id: event.file_id, kb_id: event.kb_id, name: event.name, kind: event.name.split('.').pop() ?? '',
    size: 0, sha256: '', status: 'queued', error: null, progress: 0, chunk_count: 0,
    created_at: now, updated_at: now, duplicate: false, ...changes,
  }
}

function applyBaseEvent(state: KnowledgeState, event: BaseEvent): void {
  const index = state.bases.findIndex((base) => base.id === event.kb_id)
  if (index < 0) return
  if (event.status === 'deleted') {
    state.bases.splice(index, 1)
    delete state.files[event.kb_id]
    return
  }
  Object.assign(state.bases[index], { status: event.status, file_count: event.file_count, chunk_count: event.chunk_count })
}
