/** App keyboard shortcuts. Ctrl on Linux/Windows, ⌘ on macOS. */
import { onMounted, onUnmounted } from 'vue'

export type ShortcutAction =
  | 'new-chat' | 'search' | 'composer' | 'toggle-list' | 'next' | 'previous' | 'stop' | 'settings' | 'help'

interface KeyLike {
  key: string
  ctrlKey: boolean
  metaKey: boolean
  altKey: boolean
  shiftKey: boolean
  /** The key went to a text field: a plain `?` is typed there, not a shortcut. */
  typing?: boolean
}

/** The one table of shortcuts: the handlers (`shortcutFor`), the sheet (components/ShortcutsSheet.vue,
 *  in this order) and the hints in tooltips and menus all read it. `keys` end with the key itself;
 *  before it, `Mod` is Ctrl (⌘ on macOS) and `Alt` is Alt (⌥). The label is `shortcuts.actions.<action>`. */
export const SHORTCUTS: readonly { action: ShortcutAction; keys: readonly string[] }[] = [
  { action: 'new-chat', keys: ['Mod', 'N'] },
  { action: 'search', keys: ['Mod', 'K'] },
  { action: 'composer', keys: ['Mod', 'L'] },
  { action: 'toggle-list', keys: ['Mod', 'B'] },
  { action: 'next', keys: ['Alt', '↓'] },
  { action: 'previous', keys: ['Alt', '↑'] },
  { action: 'stop', keys: ['Esc'] },
  { action: 'settings', keys: ['Mod', ','] },
  { action: 'help', keys: ['?'] },
]

/** `event.key` (lower-cased) of a key the table writes as a symbol. */
const EVENT_KEY: Record<string, string> = { '↓': 'arrowdown', '↑': 'arrowup', Esc: 'escape' }

export function isMac(platform: string = typeof navigator === 'undefined' ? '' : navigator.platform): boolean {
  return /mac|iphone|ipad/i.test(platform)
}

/** An action's keys as people read them, for the sheet and for tooltips: `Ctrl+N`, `⌘N`. */
export function shortcutLabel(action: ShortcutAction, mac: boolean = isMac()): string {
  const keys = SHORTCUTS.find((s) => s.action === action)?.keys ?? []
  const shown = keys.map((k) => (k === 'Mod' ? (mac ? '⌘' : 'Ctrl') : k === 'Alt' && mac ? '⌥' : k))
  return mac ? shown.join('') : shown.join('+')
}

/** The same keys for assistive tech (`aria-keyshortcuts`): `Control+N`, `Meta+N`, `Alt+ArrowDown`. */
export function ariaKeyShortcuts(action: ShortcutAction, mac: boolean = isMac()): string {
  const keys = SHORTCUTS.find((s) => s.action === action)?.keys ?? []
  const names: Record<string, string> = { Mod: mac ? 'Meta' : 'Control', '↓': 'ArrowDown', '↑': 'ArrowUp', Esc: 'Escape', '?': 'Shift+?' }
  return keys.map((k) => names[k] ?? k).join('+')
}

/** A tooltip: the control's name and its shortcut, `New chat (Ctrl+N)`. */
export function withShortcut(label: string, action: ShortcutAction): string {
  return `${label} (${shortcutLabel(action)})`
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

function matches(keys: readonly string[], event: KeyLike): boolean {
  const last = keys[keys.length - 1] ?? ''
  const mod = keys.includes('Mod')
  if (event.key.toLowerCase() !== (EVENT_KEY[last] ?? last.toLowerCase())) return false
  if ((event.ctrlKey || event.metaKey) !== mod || event.altKey !== keys.includes('Alt')) return false
  if (mod && event.shiftKey) return false // Ctrl+Shift+N is another shortcut (or the browser's)
  // A plain printable key (`?`) is typed in a text field, not a shortcut there.
  return mod || keys.includes('Alt') || last.length !== 1 || !event.typing
}

export function shortcutFor(event: KeyLike): ShortcutAction | null {
  return SHORTCUTS.find((s) => matches(s.keys, event))?.action ?? null
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
