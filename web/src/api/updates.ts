/** The shell's updater (src-tauri/src/updater.rs): status, check, install, restart. */
import { inTauri } from './shell'

export const UPDATE_STATUS_EVENT = 'sage://update-status'

/** Mirrors `UpdateStatus` in updater.rs (serde tag `state`, camelCase fields). */
export type UpdateStatus =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'up-to-date'; current: string }
  | { state: 'available'; current: string; version: string; notes: string | null }
  | { state: 'downloading'; version: string; downloaded: number; total: number | null }
  | { state: 'installed'; version: string }
  | { state: 'failed'; message: string }

async function invoke<T>(command: string): Promise<T> {
  const core = await import('@tauri-apps/api/core')
  return core.invoke<T>(command)
}

/** Outside Tauri (browser tests, dev server) there is no updater: the status stays idle. */
export const getUpdateStatus = (): Promise<UpdateStatus> =>
  inTauri() ? invoke<UpdateStatus>('update_status') : Promise.resolve({ state: 'idle' })

export const checkForUpdates = () => invoke<UpdateStatus>('check_for_updates')

/** Rejects with the shell's readable message (bad signature, unreachable server, ...). */
export const installUpdate = () => invoke<UpdateStatus>('install_update')

export const restartApp = () => invoke<void>('restart_app')

export async function onUpdateStatus(handler: (status: UpdateStatus) => void): Promise<() => void> {
  if (!inTauri()) return () => {}
  const { listen } = await import('@tauri-apps/api/event')
  return listen<UpdateStatus>(UPDATE_STATUS_EVENT, (event) => handler(event.payload))
}

/** Download progress in percent, when the server sent a size. */
export function progressPercent(status: UpdateStatus): number | null {
  if (status.state !== 'downloading' || !status.total) return null
  return Math.min(100, Math.round((status.downloaded / status.total) * 100))
}
