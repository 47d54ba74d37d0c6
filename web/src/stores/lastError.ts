/**
 * A store's last failure and the wrapper its actions run in: a failure becomes `error` (the screen
 * shows it with ErrorNotice) instead of an exception, and the next action clears it.
 */
import { ref } from 'vue'

export function useLastError() {
  const error = ref<unknown>(null)

  async function attempt<T>(action: () => Promise<T>): Promise<T | undefined> {
    error.value = null
    try {
      return await action()
    } catch (e) {
      error.value = e
      return undefined
    }
  }

  return { error, attempt }
}
