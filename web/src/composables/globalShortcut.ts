/**
 * Quick ask's global shortcut as Settings → Desktop records and shows it. The shell stores and
 * registers an accelerator in the global-hotkey syntax ("Ctrl+Alt+KeyK", "CommandOrControl+Shift+Space",
 * "F9"; src-tauri/src/hotkey.rs); these helpers build one from a key press and show one the way
 * the platform writes shortcuts.
 */
/** The shell's default (hotkey.rs): Ctrl+Shift+Space, Cmd+Shift+Space on macOS. */
export const DEFAULT_SHORTCUT = 'CommandOrControl+Shift+Space'

interface KeyPress {
  key: string
  code: string
  ctrlKey: boolean
  altKey: boolean
  shiftKey: boolean
  metaKey: boolean
}

const MODIFIER_KEYS = new Set(['Control', 'Alt', 'Shift', 'Meta', 'OS', 'Super', 'Hyper', 'AltGraph', 'CapsLock'])
const FUNCTION_KEY = /^F([1-9]|1[0-2])$/

export const isMac = (): boolean => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)

/** The accelerator for a key press, or null while only modifiers are down. */
export function acceleratorOf(press: KeyPress): string | null {
  if (MODIFIER_KEYS.has(press.key) || !press.code || press.code === 'Unidentified') return null
  const parts: string[] = []
  if (press.ctrlKey) parts.push('Ctrl')
  if (press.altKey) parts.push('Alt')
  if (press.shiftKey) parts.push('Shift')
  if (press.metaKey) parts.push('Super')
  parts.push(press.code)
  return parts.join('+')
}

/** Why the shell would refuse it (the same rule as hotkey.rs's parse), or null if it may try. */
export function localProblem(accelerator: string): 'invalid' | null {
  const parts = accelerator.split('+')
  const key = parts[parts.length - 1]
  const held = parts.slice(0, -1).some((part) => /^(ctrl|control|alt|option|super|cmd|command|commandorcontrol|cmdorctrl)$/i.test(part))
  return held || FUNCTION_KEY.test(key) ? null : 'invalid'
}

const MAC_SYMBOLS: Record<string, string> = { ctrl: '⌃', control: '⌃', alt: '⌥', option: '⌥', shift: '⇧', super: '⌘', cmd: '⌘', command: '⌘', commandorcontrol: '⌘', cmdorctrl: '⌘' }
const WORDS: Record<string, string> = { ctrl: 'Ctrl', control: 'Ctrl', alt: 'Alt', option: 'Alt', shift: 'Shift', super: 'Super', cmd: 'Super', command: 'Super', commandorcontrol: 'Ctrl', cmdorctrl: 'Ctrl' }

function keyName(code: string): string {
  if (/^Key[A-Z]$/.test(code)) return code.slice(3)
  if (/^Digit[0-9]$/.test(code)) return code.slice(5)
  if (code.startsWith('Arrow')) return code.slice(5)
  return code
}

/** "CommandOrControl+Shift+Space" → "Ctrl+Shift+Space" (Linux, Windows) or "⌘⇧Space" (macOS). */
export function displayAccelerator(accelerator: string, mac = isMac()): string {
  if (!accelerator.trim()) return ''
  const parts = accelerator.split('+').map((part) => part.trim())
  const key = keyName(parts.pop() as string)
  const mods = parts.map((part) => (mac ? MAC_SYMBOLS : WORDS)[part.toLowerCase()] ?? part)
  return mac ? [...mods, key].join('') : [...mods, key].join('+')
}
