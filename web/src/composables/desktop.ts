/** The main window's side of the desktop integration: the tray's "New chat", "Open in Sage" from
 * quick ask or a notification, the tray's language, and notifications. Nothing outside Tauri. */
import { onMounted, onUnmounted, watch } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'

import { inTauri, onNewChat, onOpenConversation, schedulerChanged, setTrayLabels, type TrayLabels } from '@/api/shell'
import { onUpdateStatus } from '@/api/updates'
import { useChatStore } from '@/stores/chat'
import { useConnectionStore } from '@/stores/connection'

import { deliver, startNotifications, updateNotice } from './notifications'

const TRAY_KEYS: (keyof TrayLabels)[] = [
  'toggleWindow', 'newChat', 'quickAsk', 'pauseTasks', 'resumeTasks', 'checkUpdates', 'openDataFolder', 'quit',
]

/** Whether an event says scheduled tasks are now paused (`null`: it is about something else). */
export function schedulerPausedOf(event: { type: string }): boolean | null {
  const frame = event as { type: string; paused?: unknown }
  return frame.type === 'task.scheduler_changed' && typeof frame.paused === 'boolean' ? frame.paused : null
}

export function useDesktopIntegration(): void {
  const { t, locale } = useI18n()
  const router = useRouter()
  const chat = useChatStore()
  const connection = useConnectionStore()
  const cleanups: (() => void)[] = []

  /** Show a conversation (or a new chat for null) on the chat page. */
  async function show(conversationId: string | null): Promise<void> {
    if (router.currentRoute.value.name !== 'chat') await router.push({ name: 'chat' })
    await chat.open(conversationId)
    if (conversationId && !chat.conversations.some((c) => c.id === conversationId)) await chat.loadConversations()
  }

  onMounted(async () => {
    if (!inTauri()) return
    cleanups.push(await onNewChat(() => void show(null)))
    // null (an update notification): showing the window is all there is to do.
    cleanups.push(await onOpenConversation((id) => id && void show(id)))
    // Replies started in quick ask: their approvals can be answered here, their ends shown.
    cleanups.push(connection.subscribe((event) => chat.onAppEvent(event)))
    // Paused or resumed anywhere (the Tasks screen, the tray): the tray's item says what a click does.
    cleanups.push(connection.subscribe((event) => {
      const paused = schedulerPausedOf(event)
      if (paused !== null) schedulerChanged(paused).catch((error) => console.warn('tray tasks item:', error))
    }))
    cleanups.push(await startNotifications(connection.subscribe, (key, values) => t(key, values ?? {})))
    let announced: string | null = null
    cleanups.push(await onUpdateStatus((status) => {
      if (status.state !== 'available' || status.version === announced) return
      announced = status.version
      void deliver(updateNotice(status.version, (key, values) => t(key, values ?? {})))
    }))
    cleanups.push(watch(locale, () => {
      const labels = Object.fromEntries(TRAY_KEYS.map((key) => [key, t(`tray.${key}`)])) as unknown as TrayLabels
      setTrayLabels(labels).catch((error) => console.warn('tray labels:', error))
    }, { immediate: true }))
  })
  onUnmounted(() => cleanups.splice(0).forEach((cleanup) => cleanup()))
}
