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

// --- Desktop integration: tray, quick ask, close to tray, notifications (docs/desktop.md) ---

/** The tray's "New chat": start a new conversation in the main window. */
export const NEW_CHAT_EVENT = 'sage://new-chat'
/** Quick ask's "Open in Sage" or a click on a notification: show that conversation. */
export const OPEN_CONVERSATION_EVENT = 'sage://open-conversation'
/** The tray's "Check for updates" (the updater listens to it). */
export const CHECK_UPDATES_EVENT = 'sage://check-updates'

/** Mirrors `ShellSettings` in src-tauri/src/settings.rs. */
export interface ShellSettings {
  closeToTray: boolean
}

/** Mirrors `TrayLabels` in src-tauri/src/tray.rs. */
export interface TrayLabels {
  toggleWindow: string
  newChat: string
  quickAsk: string
  checkUpdates: string
  openDataFolder: string
  quit: string
}

async function command<T>(name: string, args?: Record<string, unknown>): Promise<T> {
  const { invoke } = await import('@tauri-apps/api/core')
  return invoke<T>(name, args)
}

/** The quick-ask window loads the same bundle at `#/quick`. */
export function isQuickAskWindow(): boolean {
  return typeof window !== 'undefined' && window.location.hash.startsWith('#/quick')
}

export const getShellSettings = () => command<ShellSettings>('get_shell_settings')
export const setShellSettings = (settings: ShellSettings) => command<ShellSettings>('set_shell_settings', { settings })
export const setTrayLabels = (labels: TrayLabels) => command<void>('set_tray_labels', { labels })
export const hideQuickAsk = () => command<void>('hide_quick_ask')
/** Show the main window on that conversation (a new chat for null); quick ask hides itself. */
export const openInMain = (conversationId: string | null) => command<void>('open_in_main', { conversationId })
/** Whether one of Sage's windows is on screen and focused. Outside Tauri: the page's focus. */
export const appHasFocus = (): Promise<boolean> =>
  inTauri() ? command<boolean>('app_has_focus') : Promise.resolve(document.hasFocus())

export const onNewChat = (handler: () => void) => onShellEvent<null>(NEW_CHAT_EVENT, () => handler())
export const onOpenConversation = (handler: (conversationId: string | null) => void) =>
  onShellEvent<{ conversationId: string | null }>(OPEN_CONVERSATION_EVENT, (payload) => handler(payload.conversationId))
