/**
 * The few things the UI asks of the Tauri shell, typed by the shell's own Rust types
 * (shell-types.ts is generated from them). Outside Tauri (browser tests) events are no-ops.
 */
import type { CommandError, SageConfig, ShellSettings, ShortcutStatus, StartupError, TrayLabels } from './shell-types'

export type { CommandError, ShellSettings, ShortcutStatus, TrayLabels }

/** Payload: the new `SageConfig`, after every start of the sidecar (new port and key). */
export const SIDECAR_CHANGED_EVENT = 'sage://sidecar-changed'
/** A start failed or the supervisor gave up (crash loop): payload is a StartupError. */
export const SIDECAR_FAILED_EVENT = 'sage://sidecar-failed'

export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window
}

/** A command failed: `detail` is the shell's `CommandError`, `message` a readable sentence. */
export class ShellCommandError extends Error {
  constructor(readonly detail: CommandError) {
    super(detail.kind === 'startup' ? `${detail.message} (log: ${detail.logPath})` : detail.message)
    this.name = 'ShellCommandError'
  }

  /** The sentence alone, wherever the error is turned into text. */
  override toString(): string {
    return this.message
  }
}

function isCommandError(value: unknown): value is CommandError {
  return typeof value === 'object' && value !== null && 'kind' in value && 'message' in value
}

/** The startup error a failed `getConnection` / `restartSidecar` carries, if that is what it is. */
export function startupErrorOf(error: unknown): StartupError | null {
  if (error instanceof ShellCommandError && error.detail.kind === 'startup') {
    const { message, logPath, code, params } = error.detail
    return { message, logPath, code, params }
  }
  return null
}

export async function command<T>(name: string, args?: Record<string, unknown>): Promise<T> {
  const { invoke } = await import('@tauri-apps/api/core')
  try {
    return await invoke<T>(name, args)
  } catch (error) {
    throw isCommandError(error) ? new ShellCommandError(error) : error
  }
}

/**
 * The sidecar connection to use now. Waits while the sidecar is starting; rejects with a
 * `ShellCommandError` of kind `startup` (message and log path) if it could not start.
 */
export const getConnection = () => command<SageConfig>('get_connection')

/** Ask the shell for a fresh sidecar; resolves with the new connection. */
export const restartSidecar = () => command<SageConfig>('restart_sidecar')
/** Set an unopenable database aside (into backups/) and start a sidecar on a new one. */
export const startFresh = () => command<SageConfig>('start_fresh')

/** Subscribe to a shell event; outside Tauri there are none, so nothing to undo. */
export async function onShellEvent<T>(name: string, handler: (payload: T) => void): Promise<() => void> {
  if (!inTauri()) return () => {}
  const { listen } = await import('@tauri-apps/api/event')
  return listen<T>(name, (event) => handler(event.payload))
}

/** Called after every start of the sidecar (new port and key), including the first. */
export const onSidecarChanged = (handler: (config: SageConfig) => void) =>
  onShellEvent(SIDECAR_CHANGED_EVENT, handler)

/** Called when a start failed or the shell stopped restarting a crashing sidecar. */
export const onSidecarFailed = (handler: (error: StartupError) => void) =>
  onShellEvent(SIDECAR_FAILED_EVENT, handler)

// --- Desktop integration: tray, quick ask, close to tray, notifications (docs/desktop.md) ---

/** The tray's "New chat": start a new conversation in the main window. */
export const NEW_CHAT_EVENT = 'sage://new-chat'
/** Quick ask's "Open in Sage" or a click on a notification: show that conversation. */
export const OPEN_CONVERSATION_EVENT = 'sage://open-conversation'
/** The tray's "Check for updates" (the updater listens to it). */
export const CHECK_UPDATES_EVENT = 'sage://check-updates'

/** The quick-ask window loads the same bundle at `#/quick`. */
export function isQuickAskWindow(): boolean {
  return typeof window !== 'undefined' && window.location.hash.startsWith('#/quick')
}

export const getShellSettings = () => command<ShellSettings>('get_shell_settings')
export const setShellSettings = (settings: ShellSettings) => command<ShellSettings>('set_shell_settings', { settings })
/** "Start Sage at login": the system's autostart entry is the setting (docs/desktop.md). */
export const getStartAtLogin = () => command<boolean>('get_start_at_login')
export const setStartAtLogin = (enabled: boolean) => command<boolean>('set_start_at_login', { enabled })
/** Quick ask's global shortcut: saved, registered now, or why not. */
export const quickAskShortcutStatus = () => command<ShortcutStatus>('quick_ask_shortcut_status')
export const setTrayLabels = (labels: TrayLabels) => command<null>('set_tray_labels', { labels })
/** The main window heard `task.scheduler_changed`: the tray's pause/resume item follows. */
export const schedulerChanged = (paused: boolean) => command<null>('scheduler_changed', { paused })
export const hideQuickAsk = () => command<null>('hide_quick_ask')
/** Show the main window on that conversation (a new chat for null); quick ask hides itself. */
export const openInMain = (conversationId: string | null) => command<null>('open_in_main', { conversationId })
/** Whether one of Sage's windows is on screen and focused. Outside Tauri: the page's focus. */
export const appHasFocus = (): Promise<boolean> =>
  inTauri() ? command<boolean>('app_has_focus') : Promise.resolve(document.hasFocus())

export const onNewChat = (handler: () => void) => onShellEvent<null>(NEW_CHAT_EVENT, () => handler())
export const onOpenConversation = (handler: (conversationId: string | null) => void) =>
  onShellEvent<{ conversationId: string | null }>(OPEN_CONVERSATION_EVENT, (payload) => handler(payload.conversationId))
