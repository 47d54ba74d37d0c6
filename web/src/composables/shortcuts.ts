/** App keyboard shortcuts. Ctrl on Linux/Windows, ⌘ on macOS. */
import { onMounted, onUnmounted } from 'vue'

export type ShortcutAction = 'new-chat' | 'search' | 'composer' | 'next' | 'previous' | 'stop'

interface KeyLike {
  key: string
  ctrlKey: boolean
  metaKey: boolean
  altKey: boolean
  shiftKey: boolean
}

export function shortcutFor(event: KeyLike): ShortcutAction | null {
  const mod = event.ctrlKey || event.metaKey
  const key = event.key.toLowerCase()
  if (mod && !event.altKey && !event.shiftKey) {
    if (key === 'n') return 'new-chat'
    if (key === 'k') return 'search'
    if (key === 'l') return 'composer'
  }
  if (event.altKey && !mod && key === 'arrowdown') return 'next'
  if (event.altKey && !mod && key === 'arrowup') return 'previous'
  if (key === 'escape' && !mod && !event.altKey) return 'stop'
  return null
}

export function useShortcuts(handlers: Partial<Record<ShortcutAction, () => void>>): void {
  const onKey = (event: KeyboardEvent) => {
    const action = shortcutFor(event)
    const handler = action ? handlers[action] : undefined
    if (!handler) return
    event.preventDefault()
    handler()
  }
  onMounted(() => window.addEventListener('keydown', onKey))
  onUnmounted(() => window.removeEventListener('keydown', onKey))
}
