/**
 * Toasts: short notices of background outcomes (a deletion with Undo, an export saved), shown by
 * components/ToastRegion.vue in a polite live region. Each hides itself after its duration.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'

export type ToastTone = 'info' | 'ok' | 'bad'

export interface ToastAction {
  label: string
  run: () => void
}

export interface Toast {
  id: number
  message: string
  tone: ToastTone
  action?: ToastAction
}

export const TOAST_MS = 5000
/** More would cover the screen; the oldest gives way. */
export const MAX_TOASTS = 3

export const useToastsStore = defineStore('toasts', () => {
  const list = ref<Toast[]>([])
  const timers = new Map<number, ReturnType<typeof setTimeout>>()
  let nextId = 1

  function dismiss(id: number): void {
    clearTimeout(timers.get(id))
    timers.delete(id)
    list.value = list.value.filter((t) => t.id !== id)
  }

  function show(message: string, options: { tone?: ToastTone; action?: ToastAction; durationMs?: number } = {}): number {
    const id = nextId++
    list.value = [...list.value, { id, message, tone: options.tone ?? 'info', action: options.action }]
    while (list.value.length > MAX_TOASTS) dismiss(list.value[0].id)
    timers.set(id, setTimeout(() => dismiss(id), options.durationMs ?? TOAST_MS))
    return id
  }

  /** The toast's action (e.g. Undo), then the toast goes. */
  function act(id: number): void {
    const toast = list.value.find((t) => t.id === id)
    dismiss(id)
    toast?.action?.run()
  }

  return { list, show, dismiss, act }
})
