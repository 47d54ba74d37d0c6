/**
 * One agent's workspace on screen: its files, trash and the open preview, kept live by the
 * sidecar's `workspace.changed` events (the agent's own writes included: those are marked so the
 * screen can show what just appeared).
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import {
  workspaces as api,
  type SageEvent,
  type Workspace,
  type WorkspacePreview,
  type WorkspaceTrashItem,
  type WorkspaceUpload,
} from '@/api'

import { useConnectionStore } from './connection'
import { useLastError } from './lastError'

/** Events arrive in bursts (a dropped folder, an agent writing files); one reload per burst. */
export const RELOAD_DELAY_MS = 150

/** The paths an event names (a move names both ends). */
export function eventPaths(event: SageEvent): string[] {
  if (event.type !== 'workspace.changed') return []
  return [event.path, event.toPath].filter((p): p is string => !!p)
}

export const useWorkspaceStore = defineStore('workspace', () => {
  const agentId = ref<string | null>(null)
  const workspace = ref<Workspace | null>(null)
  const trash = ref<WorkspaceTrashItem[]>([])
  const selected = ref<string | null>(null)
  const preview = ref<WorkspacePreview | null>(null)
  /** Files the agent wrote while the screen was open (until the next selection). */
  const fresh = ref<Set<string>>(new Set())
  const { error, attempt } = useLastError()
  let unsubscribe: (() => void) | null = null
  let timer: ReturnType<typeof setTimeout> | null = null

  const entries = computed(() => workspace.value?.entries ?? [])

  async function open(id: string, path: string | null = null): Promise<void> {
    unsubscribe ??= useConnectionStore().subscribe(onEvent)
    if (agentId.value !== id) {
      agentId.value = id
      workspace.value = null
      trash.value = []
      fresh.value = new Set()
      selected.value = null
      preview.value = null
    }
    await reload()
    if (path) await select(path)
  }

  function close(): void {
    unsubscribe?.()
    unsubscribe = null
    if (timer) clearTimeout(timer)
    timer = null
  }

  async function reload(): Promise<void> {
    const id = agentId.value
    if (!id) return
    const [files, trashed] = await Promise.all([attempt(() => api.get(id)), attempt(() => api.trash(id))])
    if (id !== agentId.value) return // another agent was opened meanwhile
    if (files) workspace.value = files
    if (trashed) trash.value = trashed
    if (selected.value && !entries.value.some((e) => e.path === selected.value)) {
      selected.value = null
      preview.value = null
    }
  }

  function onEvent(event: SageEvent): void {
    if (event.type !== 'workspace.changed' || event.agentId !== agentId.value) return
    if (event.by === 'agent') for (const path of eventPaths(event)) fresh.value.add(path)
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      void reload().then(() => {
        // The open file changed under us: show its new content.
        if (selected.value && eventPaths(event).includes(selected.value)) void select(selected.value)
      })
    }, RELOAD_DELAY_MS)
  }

  async function select(path: string): Promise<void> {
    const id = agentId.value
    if (!id) return
    selected.value = path
    fresh.value.delete(path)
    const shown = await attempt(() => api.preview(id, path))
    if (selected.value === path) preview.value = shown ?? null
  }

  /** Runs an action on the open workspace, then shows the result (the event would, a little later). */
  async function change<T>(action: (id: string) => Promise<T>): Promise<T | undefined> {
    const id = agentId.value
    if (!id) return undefined
    const result = await attempt(() => action(id))
    if (result !== undefined) await reload()
    return result
  }

  const upload = (uploads: WorkspaceUpload[], folder = '') => change((id) => api.upload(id, uploads, folder))
  const makeFolder = (path: string) => change((id) => api.makeFolder(id, path))
  const restore = (trashId: string) => change((id) => api.restore(id, trashId))
  const emptyTrash = () => change((id) => api.emptyTrash(id))

  async function move(from: string, to: string) {
    const entry = await change((id) => api.move(id, from, to))
    if (entry && selected.value === from) await select(entry.path)
    return entry
  }

  async function remove(path: string) {
    const item = await change((id) => api.remove(id, path))
    if (item && selected.value && (selected.value === path || selected.value.startsWith(`${path}/`))) {
      selected.value = null
      preview.value = null
    }
    return item
  }

  return {
    agentId, workspace, entries, trash, selected, preview, fresh, error,
    open, close, reload, select, upload, makeFolder, move, remove, restore, emptyTrash,
  }
})
