import { describe, expect, it } from 'vitest'

import type { KnowledgeBase, KnowledgeFile, SageEventOf } from '@/api'

import { applyKnowledgeEvent, type KnowledgeState } from './knowledgeEvents'

const base = (id: string): KnowledgeBase => ({
  id, name: id, description: '', embedder: 'local:all-minilm-l6-v2', embedding_dim: 384, chunk_tokens: 200,
  chunk_overlap: 40, status: 'ready', file_count: 0, chunk_count: 0, created_at: '', updated_at: '',
})
const file = (id: string, kbId = 'kb1'): KnowledgeFile => ({
  id, kb_id: kbId, name: `${id}.md`, kind: 'md', size: 10, sha256: 'x', status: 'queued', error: null,
  progress: 0, chunk_count: 0, created_at: '', updated_at: '', duplicate: false,
})
type FileEvent = SageEventOf<'knowledge.file'>
const fileEvent = (fields: Partial<FileEvent>): FileEvent => ({
  type: 'knowledge.file', seq: 1, time: 0, kbId: 'kb1', fileId: 'f1', name: 'f1.md', status: 'queued', progress: 0,
  error: null, chunkCount: 0, ...fields,
})
const baseEvent = (fields: Partial<SageEventOf<'knowledge.base'>>): SageEventOf<'knowledge.base'> => ({
  type: 'knowledge.base', seq: 1, time: 0, kbId: 'kb1', status: 'ready', fileCount: 0, chunkCount: 0, ...fields,
})

describe('applyKnowledgeEvent', () => {
  it('moves a file through its ingest states with progress', () => {
    const state: KnowledgeState = { bases: [base('kb1')], files: { kb1: [file('f1')] } }
    applyKnowledgeEvent(state, fileEvent({ status: 'embedding', progress: 0.5, chunkCount: 8 }))
    expect(state.files.kb1[0]).toMatchObject({ status: 'embedding', progress: 0.5, chunk_count: 8 })
    applyKnowledgeEvent(state, fileEvent({ status: 'failed', error: 'The PDF is encrypted' }))
    expect(state.files.kb1[0]).toMatchObject({ status: 'failed', error: 'The PDF is encrypted' })
  })

  it('shows a file added elsewhere, and drops a deleted one', () => {
    const state: KnowledgeState = { bases: [base('kb1')], files: { kb1: [] } }
    applyKnowledgeEvent(state, fileEvent({ fileId: 'f9', name: 'notes.pdf', status: 'queued' }))
    expect(state.files.kb1.map((f) => [f.id, f.kind, f.status])).toEqual([['f9', 'pdf', 'queued']])
    applyKnowledgeEvent(state, fileEvent({ fileId: 'f9', status: 'deleted' }))
    expect(state.files.kb1).toEqual([])
  })

  it('ignores files of bases that are not on screen', () => {
    const state: KnowledgeState = { bases: [base('kb1')], files: {} }
    applyKnowledgeEvent(state, fileEvent({ status: 'ready' }))
    expect(state.files).toEqual({})
  })

  it('updates base counts and removes a deleted base with its files', () => {
    const state: KnowledgeState = { bases: [base('kb1'), base('kb2')], files: { kb2: [file('f2', 'kb2')] } }
    applyKnowledgeEvent(state, baseEvent({ kbId: 'kb1', status: 'indexing', fileCount: 3, chunkCount: 40 }))
    expect(state.bases[0]).toMatchObject({ status: 'indexing', file_count: 3, chunk_count: 40 })
    applyKnowledgeEvent(state, baseEvent({ kbId: 'kb2', status: 'deleted' }))
    expect(state.bases.map((b) => b.id)).toEqual(['kb1'])
    expect(state.files.kb2).toBeUndefined()
  })
})
