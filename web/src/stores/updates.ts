/** What the shell's updater is doing, for the banner and the Status page. */
import { defineStore } from 'pinia'
import { ref } from 'vue'

import {
  checkForUpdates,
  getUpdateStatus,
  installUpdate,
  onUpdateStatus,
  restartApp,
  type UpdateStatus,
} from '@/api/updates'

export const useUpdatesStore = defineStore('updates', () => {
  const status = ref<UpdateStatus>({ state: 'idle' })
  /** The banner was closed for this version; a newer one shows it again. */
  const dismissed = ref<string | null>(null)
  let started = false

  async function start() {
    if (started) return
    started = true
    let heard = false
    await onUpdateStatus((next) => {
      heard = true
      status.value = next
    })
    // The launch check may have finished before this window listened. The answer was read
    // before any event that arrives while it travels: an event heard meanwhile is newer.
    const current = await getUpdateStatus()
    if (!heard) status.value = current
  }

  async function check() {
    status.value = await checkForUpdates()
  }

  async function install() {
    try {
      status.value = await installUpdate()
    } catch (error) {
      status.value = { state: 'failed', message: String(error) }
    }
  }

  const dismiss = () => {
    const current = status.value
    dismissed.value = 'version' in current ? current.version : current.state
  }

  return { status, dismissed, start, check, install, dismiss, restart: restartApp }
})
