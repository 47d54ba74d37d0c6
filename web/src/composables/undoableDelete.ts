/**
 * Delete with Undo: the item hides at once, a toast offers Undo for UNDO_MS, and only then is the
 * DELETE sent. If the window hides or closes meanwhile (pagehide, or visibility hidden: minimised,
 * closed to the tray), pending deletions are sent at once — the user asked for them, and a window
 * that goes away must not drop that intent silently; Undo is only offered while it is on screen.
 */
import { ref } from 'vue'

import { useToastsStore } from '@/stores/toasts'

export const UNDO_MS = 5000

export interface UndoableDelete {
  /** The toast's sentence, e.g. "Conversation deleted". */
  message: string
  undoLabel: string
  /** Hide the item now (it is still on the server). */
  hide: () => void
  /** Show it again (Undo, or the DELETE failed). */
  restore: () => void
  /** Send the DELETE; a rejection restores the item. */
  commit: () => Promise<void>
}

const pending = new Map<number, { request: UndoableDelete; timer: ReturnType<typeof setTimeout>; toastId: number }>()
let nextKey = 1
let listening = false

async function send(key: number): Promise<void> {
  const entry = pending.get(key)
  if (!entry) return
  pending.delete(key)
  clearTimeout(entry.timer)
  useToastsStore().dismiss(entry.toastId)
  try {
    await entry.request.commit()
  } catch {
    entry.request.restore()
  }
}

/** Send every pending deletion now (the window is going away). */
export function flushPendingDeletes(): Promise<void[]> {
  return Promise.all([...pending.keys()].map(send))
}

export function pendingDeleteCount(): number {
  return pending.size
}

function listenForLeaving(): void {
  if (listening || typeof window === 'undefined') return
  listening = true
  window.addEventListener('pagehide', () => void flushPendingDeletes())
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') void flushPendingDeletes()
  })
}

export function deleteWithUndo(request: UndoableDelete): void {
  listenForLeaving()
  const key = nextKey++
  const toasts = useToastsStore()
  request.hide()
  const toastId = toasts.show(request.message, {
    durationMs: UNDO_MS,
    action: {
      label: request.undoLabel,
      run: () => {
        const entry = pending.get(key)
        if (!entry) return
        pending.delete(key)
        clearTimeout(entry.timer)
        request.restore()
      },
    },
  })
  pending.set(key, { request, toastId, timer: setTimeout(() => void send(key), UNDO_MS) })
}

/** The ids a screen hides while their deletion waits for Undo. */
export function useHiddenIds() {
  const hidden = ref<ReadonlySet<string>>(new Set())
  return {
    hidden,
    hide: (id: string) => void (hidden.value = new Set([...hidden.value, id])),
    show: (id: string) => void (hidden.value = new Set([...hidden.value].filter((h) => h !== id))),
    without: <T extends { id: string }>(items: T[]): T[] => items.filter((item) => !hidden.value.has(item.id)),
  }
}
