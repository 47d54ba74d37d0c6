/** App keyboard shortcuts. Ctrl on Linux/Windows, ⌘ on macOS. */
import { onMounted, onUnmounted } from 'vue'

export type ShortcutAction = 'new-chat' | 'search' | 'composer' | 'next' | 'previous' | 'stop' | 'settings' | 'help'

interface KeyLike {
  key: string
  ctrlKey: boolean
  metaKey: boolean
  altKey: boolean
  shiftKey: boolean
  /** The key went to a text field: a plain `?` is typed there, not a shortcut. */
  typing?: boolean
}

/** Every shortcut, in the order the sheet (components/ShortcutsSheet.vue) lists them; `keys` are
 *  shown joined with + (`Mod` is Ctrl, or ⌘ on macOS), the label is `shortcuts.actions.<action>`. */
export const SHORTCUTS: readonly { action: ShortcutAction; keys: readonly string[] }[] = [
  { action: 'new-chat', keys: ['Mod', 'N'] },
  { action: 'search', keys: ['Mod', 'K'] },
  { action: 'composer', keys: ['Mod', 'L'] },
  { action: 'next', keys: ['Alt', '↓'] },
  { action: 'previous', keys: ['Alt', '↑'] },
  { action: 'stop', keys: ['Esc'] },
  { action: 'settings', keys: ['Mod', ','] },
  { action: 'help', keys: ['?'] },
]

export function isMac(platform: string = typeof navigator === 'undefined' ? '' : navigator.platform): boolean {
  return /mac|iphone|ipad/i.test(platform)
}

/** An action's keys as people read them, for the sheet and for tooltips: `Ctrl+N`, `⌘N`. */
export function shortcutLabel(action: ShortcutAction, mac: boolean = isMac()): string {
  const keys = SHORTCUTS.find((s) => s.action === action)?.keys ?? []
  const shown = keys.map((k) => (k === 'Mod' ? (mac ? '⌘' : 'Ctrl') : k === 'Alt' && mac ? '⌥' : k))
  return mac ? shown.join('') : shown.join('+')
}

/** A tooltip: the control's name and its shortcut, `New chat (Ctrl+N)`. */
export function withShortcut(label: string, action: ShortcutAction): string {
  return `${label} (${shortcutLabel(action)})`
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

export function shortcutFor(event: KeyLike): ShortcutAction | null {
  const mod = event.ctrlKey || event.metaKey
  const key = event.key.toLowerCase()
  if (mod && !event.altKey && !event.shiftKey) {
    if (key === 'n') return 'new-chat'
    if (key === 'k') return 'search'
    if (key === 'l') return 'composer'
    if (key === ',') return 'settings'
  }
  if (event.key === '?' && !mod && !event.altKey && !event.typing) return 'help'
  if (event.altKey && !mod && key === 'arrowdown') return 'next'
  if (event.altKey && !mod && key === 'arrowup') return 'previous'
  if (key === 'escape' && !mod && !event.altKey) return 'stop'
  return null
}

export function useShortcuts(handlers: Partial<Record<ShortcutAction, () => void>>): void {
  const onKey = (event: KeyboardEvent) => {
    const action = shortcutFor({
      key: event.key, ctrlKey: event.ctrlKey, metaKey: event.metaKey, altKey: event.altKey,
      shiftKey: event.shiftKey, typing: isTyping(event.target),
    })
    const handler = action ? handlers[action] : undefined
    if (!handler) return
    event.preventDefault()
    handler()
  }
  onMounted(() => window.addEventListener('keydown', onKey))
  onUnmounted(() => window.removeEventListener('keydown', onKey))
}
