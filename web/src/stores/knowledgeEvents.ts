/**
 * Applying the sidecar's `knowledge.file` / `knowledge.base` events (docs/knowledge.md) to the
 * lists the Knowledge screen shows. Pure functions, so ingest progress can be tested without a
 * socket.
 */
import type { KnowledgeBase, KnowledgeFile, SageEvent, SageEventOf } from '@/api'

export interface KnowledgeState {
  bases: KnowledgeBase[]
  /** Files per knowledge base id, for the bases whose files were loaded. */
  files: Record<string, KnowledgeFile[]>
}

type FileEvent = SageEventOf<'knowledge.file'>
type BaseEvent = SageEventOf<'knowledge.base'>

export function applyKnowledgeEvent(state: KnowledgeState, event: SageEvent): void {
  if (event.type === 'knowledge.file') applyFileEvent(state, event)
  else if (event.type === 'knowledge.base') applyBaseEvent(state, event)
}

function applyFileEvent(state: KnowledgeState, event: FileEvent): void {
  const files = state.files[event.kbId]
  if (!files) return // that base's files are not on screen; they load fresh when opened
  const index = files.findIndex((file) => file.id === event.fileId)
  if (event.status === 'deleted') {
    if (index >= 0) files.splice(index, 1)
    return
  }
  const changes = { status: event.status, progress: event.progress, error: event.error, chunk_count: event.chunkCount }
  if (index >= 0) Object.assign(files[index], changes)
  else files.unshift(placeholderFile(event, changes))
}

/** A file another window (or the desktop dialog) added: enough to show until the next load. */
function placeholderFile(event: FileEvent, changes: Partial<KnowledgeFile>): KnowledgeFile {
  const now = new Date().toISOString()
  return {
    id: event.fileId, kb_id: event.kbId, name: event.name, kind: event.name.split('.').pop() ?? '',
    size: 0, sha256: '', status: 'queued', error: null, progress: 0, chunk_count: 0,
    created_at: now, updated_at: now, duplicate: false, ...changes,
  }
}

function applyBaseEvent(state: KnowledgeState, event: BaseEvent): void {
  const index = state.bases.findIndex((base) => base.id === event.kbId)
  if (index < 0) return
  if (event.status === 'deleted') {
    state.bases.splice(index, 1)
    delete state.files[event.kbId]
    return
  }
  Object.assign(state.bases[index], { status: event.status, file_count: event.fileCount, chunk_count: event.chunkCount })
}
