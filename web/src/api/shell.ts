/** The few things the UI asks of the Tauri shell. Outside Tauri (browser tests) they are no-ops. */
import type { SageConfig, StartupError } from './config'

export const SIDECAR_CHANGED_EVENT = 'sage://sidecar-changed'
/** The supervisor gave up (crash loop): payload is a StartupError with the log path. */
export const SIDECAR_FAILED_EVENT = 'sage://sidecar-failed'

export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window
}

/** Ask the shell for a fresh sidecar; resolves with the new connection. */
export async function restartSidecar(): Promise<SageConfig> {
  const { invoke } = await import('@tauri-apps/api/core')
  try {
    return await invoke<SageConfig>('restart_sidecar')
  } catch (error) {
    const startup = error as StartupError
    throw new Error(startup.message ? `${startup.message} (log: ${startup.logPath})` : String(error))
  }
}

/** Subscribe to a shell event; outside Tauri there are none, so nothing to undo. */
async function onShellEvent<T>(name: string, handler: (payload: T) => void): Promise<() => void> {
  if (!inTauri()) return () => {}
  const { listen } = await import('@tauri-apps/api/event')
  return listen<T>(name, (event) => handler(event.payload))
}

/** Called whenever the shell restarted the sidecar (new port and key). */
export const onSidecarChanged = (handler: (config: SageConfig) => void) =>
  onShellEvent(SIDECAR_CHANGED_EVENT, handler)

/** Called when the shell stopped restarting a crashing sidecar. */
export const onSidecarFailed = (handler: (error: StartupError) => void) =>
  onShellEvent(SIDECAR_FAILED_EVENT, handler)
