/**
 * Native notifications, one path: the sidecar publishes `chat.reply_finished`,
 * `chat.approval_required` and `task.run_finished` on `/ws/events`; the main window turns them into notifications through
 * tauri-plugin-notification, only when no Sage window is on screen with the focus and only for
 * the kinds the user left on (Settings → Desktop). A click on one opens its conversation where
 * the platform reports clicks (see docs/desktop.md).
 */
import type { SageEvent } from '@/api'
import { appHasFocus, inTauri, openInMain } from '@/api/shell'

export const NOTIFY_KINDS = ['replyFinished', 'approvalWaiting', 'updateReady', 'taskFinished'] as const
export type NotifyKind = (typeof NOTIFY_KINDS)[number]
export type NotifyPrefs = Record<NotifyKind, boolean>

const KEY = 'sage.notifications'
const BODY_LIMIT = 180

type Translate = (key: string, values?: Record<string, unknown>) => string

export interface Notice {
  kind: NotifyKind
  title: string
  body: string
  conversationId: string | null
}

/** Every kind is on until the user turns it off; junk in storage counts as nothing saved. */
export function savedNotifyPrefs(storage: Storage = localStorage): NotifyPrefs {
  let saved: Record<string, unknown> = {}
  try {
    const parsed: unknown = JSON.parse(storage.getItem(KEY) ?? '{}')
    if (parsed && typeof parsed === 'object') saved = parsed as Record<string, unknown>
  } catch {
    // keep the defaults
  }
  return Object.fromEntries(NOTIFY_KINDS.map((kind) => [kind, saved[kind] !== false])) as NotifyPrefs
}

export function saveNotifyPrefs(prefs: NotifyPrefs, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify(prefs))
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > BODY_LIMIT ? `${flat.slice(0, BODY_LIMIT - 1)}…` : flat
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '')

/** The notification a sidecar event deserves, whatever the focus and settings; null for none. */
export function noticeFor(event: SageEvent, t: Translate): Notice | null {
  if (event.type === 'task.run_finished') return taskNotice(event, t)
  if (event.type !== 'chat.reply_finished' && event.type !== 'chat.approval_required') return null
  const conversationId = event.conversationId || null
  const title = event.title || t('notify.untitled')
  if (event.type === 'chat.reply_finished') {
    if (event.status === 'completed') {
      return { kind: 'replyFinished', title: t('notify.replyDone', { title }), body: clip(event.preview), conversationId }
    }
    if (event.status === 'failed') {
      return { kind: 'replyFinished', title: t('notify.replyFailed', { title }), body: clip(event.error ?? ''), conversationId }
    }
    return null // interrupted: the user stopped it themselves
  }
  return { kind: 'approvalWaiting', title: t('notify.approval', { tool: event.tool }), body: title, conversationId }
}

/** A scheduled task's run ended (docs/tasks.md): a click opens its conversation. Only tasks that
 * ask for it notify; a skipped occurrence never does (the run before it is still going). */
function taskNotice(event: Extract<SageEvent, { type: 'task.run_finished' }>, t: Translate): Notice | null {
  if (!event.notify || event.status === 'skipped') return null
  const name = event.taskName
  const conversationId = event.conversationId || null
  if (event.status === 'completed') return { kind: 'taskFinished', title: t('notify.taskDone', { name }), body: '', conversationId }
  if (event.status === 'missed') return { kind: 'taskFinished', title: t('notify.taskMissed', { name }), body: clip(event.error ?? ''), conversationId }
  return { kind: 'taskFinished', title: t('notify.taskFailed', { name }), body: clip(event.error ?? ''), conversationId }
}

/** A newer version found by the updater's background check, as a notice. */
export function updateNotice(version: string, t: Translate): Notice {
  return { kind: 'updateReady', title: t('notify.updateReady', { version }), body: t('notify.updateReadyBody'), conversationId: null }
}

/** Show it only when its kind is on and the user is not looking at Sage. */
export function shouldNotify(notice: Notice, prefs: NotifyPrefs, appFocused: boolean): boolean {
  return prefs[notice.kind] && !appFocused
}

/** Send the notice if it should be sent; resolves with whether it was. */
export async function deliver(notice: Notice): Promise<boolean> {
  if (!inTauri() || !shouldNotify(notice, savedNotifyPrefs(), await appHasFocus())) return false
  // The plugin's own commands, called directly: its npm wrapper lags behind the crate, and the
  // Tauri CLI refuses mismatched versions.
  const { invoke } = await import('@tauri-apps/api/core')
  const options = { title: notice.title, body: notice.body, extra: { conversationId: notice.conversationId } }
  await invoke('plugin:notification|notify', { options })
  return true
}

/** The conversation a clicked notification points at. The plugin reports the notification
 * either as the payload itself or under `notification`, depending on the platform. */
export function clickedConversation(payload: unknown): string | null {
  const outer = (payload ?? {}) as { notification?: { extra?: Record<string, unknown> }; extra?: Record<string, unknown> }
  const extra = outer.notification?.extra ?? outer.extra ?? {}
  return str(extra.conversationId) || null
}

/**
 * Turn the sidecar's events into notifications for as long as the main window lives.
 * `subscribe` feeds every `/ws/events` event; returns the unsubscribe function.
 */
export async function startNotifications(
  subscribe: (handler: (event: SageEvent) => void) => () => void,
  t: Translate,
): Promise<() => void> {
  if (!inTauri()) return () => {}
  const { addPluginListener } = await import('@tauri-apps/api/core')
  // Registered before any notification is shown: on Linux only notifications sent while a
  // listener exists offer the click (the "default" action), reported as `actionPerformed`.
  const clicks = await addPluginListener('notification', 'actionPerformed', (payload: unknown) =>
    void openInMain(clickedConversation(payload)))
  const unsubscribe = subscribe((event) => {
    const notice = noticeFor(event, t)
    if (notice) deliver(notice).catch((error) => console.warn('notification:', error))
  })
  return () => {
    unsubscribe()
    void clicks.unregister()
  }
}
