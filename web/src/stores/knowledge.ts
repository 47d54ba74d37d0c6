/** Knowledge bases and their files, kept live by the sidecar's ingest events. */
import { defineStore } from 'pinia'
import { reactive } from 'vue'

import { knowledge as api, type KnowledgeBaseFields, type KnowledgeFile } from '@/api'

import { useConnectionStore } from './connection'
import { applyKnowledgeEvent, type KnowledgeState } from './knowledgeEvents'
import { useLastError } from './lastError'

export const useKnowledgeStore = defineStore('knowledge', () => {
  const state = reactive<KnowledgeState>({ bases: [], files: {} })
  const { error, attempt } = useLastError()
  let unsubscribe: (() => void) | null = null

  async function load(): Promise<void> {
    unsubscribe ??= useConnectionStore().subscribe((event) => applyKnowledgeEvent(state, event))
    const bases = await attempt(() => api.list())
    if (bases) state.bases = bases
  }

  async function loadFiles(kbId: string): Promise<void> {
    const files = await attempt(() => api.files(kbId))
    if (files) state.files[kbId] = files
  }

  async function create(fields: KnowledgeBaseFields) {
    const base = await attempt(() => api.create(fields))
    if (base) {
      state.bases.unshift(base)
      state.files[base.id] = []
    }
    return base
  }

  async function remove(kbId: string): Promise<void> {
    if ((await attempt(() => api.remove(kbId))) === null) {
      state.bases = state.bases.filter((base) => base.id !== kbId)
      delete state.files[kbId]
    }
  }

  async function reindex(kbId: string): Promise<void> {
    const base = await attempt(() => api.reindex(kbId))
    if (base) Object.assign(state.bases.find((b) => b.id === kbId) ?? {}, base)
    await loadFiles(kbId)
  }

  /** A new embedder re-indexes every file of the base (the sidecar queues them again). */
  async function setEmbedder(kbId: string, embedder: string): Promise<void> {
    const base = await attempt(() => api.update(kbId, { embedder }))
    if (base) Object.assign(state.bases.find((b) => b.id === kbId) ?? {}, base)
    await loadFiles(kbId)
  }

  /** Merge what an upload or add-by-path returned (a duplicate comes back as the existing file). */
  function merge(kbId: string, added: KnowledgeFile[]): void {
    const files = (state.files[kbId] ??= [])
    for (const file of added) {
      const index = files.findIndex((f) => f.id === file.id)
      if (index >= 0) Object.assign(files[index], file)
      else files.unshift(file)
    }
  }

  async function upload(kbId: string, files: File[]): Promise<KnowledgeFile[]> {
    const added = (await attempt(() => api.upload(kbId, files))) ?? []
    merge(kbId, added)
    return added
  }

  async function addPaths(kbId: string, paths: string[]): Promise<KnowledgeFile[]> {
    const added = (await attempt(() => api.addPaths(kbId, paths))) ?? []
    merge(kbId, added)
    return added
  }

  async function removeFile(kbId: string, fileId: string): Promise<void> {
    if ((await attempt(() => api.removeFile(kbId, fileId))) === null) {
      state.files[kbId] = (state.files[kbId] ?? []).filter((file) => file.id !== fileId)
    }
  }

  return { state, error, load, loadFiles, create, remove, reindex, setEmbedder, upload, addPaths, removeFile }
})
