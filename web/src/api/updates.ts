/** The shell's updater (src-tauri/src/updater.rs): status, check, install, restart. */
import { command, inTauri, onShellEvent } from './shell'
import type { UpdateStatus } from './shell-types'

export type { UpdateStatus }

export const UPDATE_STATUS_EVENT = 'sage://update-status'

/** Outside Tauri (browser tests, dev server) there is no updater: the status stays idle. */
export const getUpdateStatus = (): Promise<UpdateStatus> =>
  inTauri() ? command<UpdateStatus>('update_status') : Promise.resolve({ state: 'idle' })

export const checkForUpdates = () => command<UpdateStatus>('check_for_updates')

/** Rejects with a `ShellCommandError` whose message is readable (bad signature, unreachable server, ...). */
export const installUpdate = () => command<UpdateStatus>('install_update')

export const restartApp = () => command<null>('restart_app')

export const onUpdateStatus = (handler: (status: UpdateStatus) => void) =>
  onShellEvent<UpdateStatus>(UPDATE_STATUS_EVENT, handler)

/** Download progress in percent, when the server sent a size. */
export function progressPercent(status: UpdateStatus): number | null {
  if (status.state !== 'downloading' || !status.total) return null
  return Math.min(100, Math.round((status.downloaded / status.total) * 100))
}
