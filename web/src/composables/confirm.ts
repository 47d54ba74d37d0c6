/**
 * Ask the user before an action (e.g. open a plain-http link, empty the trash): `askConfirm`
 * queues a question that `components/ui/ConfirmHost.vue` (mounted once in App.vue) shows as a
 * modal confirmation, and resolves with the answer. Plain module state, so code outside Vue
 * (the link handler in main.ts) can ask too.
 */
import { reactive } from 'vue'

export interface ConfirmRequest {
  title: string
  message: string
  confirmLabel: string
  cancelLabel: string
  danger?: boolean
  /** data-testid of the dialog; its buttons are `<testid>-cancel` and `<testid>-open`. */
  testid?: string
}

interface Pending extends ConfirmRequest {
  id: number
  resolve: (yes: boolean) => void
}

let nextId = 1

export const confirmQueue = reactive<{ items: Pending[] }>({ items: [] })

export function askConfirm(request: ConfirmRequest): Promise<boolean> {
  return new Promise((resolve) => confirmQueue.items.push({ ...request, id: nextId++, resolve }))
}

/** Answer the question on screen (the first in the queue). */
export function answerConfirm(yes: boolean): void {
  confirmQueue.items.shift()?.resolve(yes)
}
