import { describe, expect, it } from 'vitest'

import { ariaKeyShortcuts, SHORTCUTS, shortcutFor, shortcutLabel, withShortcut } from './shortcuts'

const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) => ({
  key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods,
})

describe('shortcutFor', () => {
  it('maps Ctrl and ⌘ alike', () => {
    expect(shortcutFor(key('n', { ctrlKey: true }))).toBe('new-chat')
    expect(shortcutFor(key('N', { metaKey: true }))).toBe('new-chat')
    expect(shortcutFor(key('k', { ctrlKey: true }))).toBe('search')
    expect(shortcutFor(key('l', { metaKey: true }))).toBe('composer')
    expect(shortcutFor(key('b', { ctrlKey: true }))).toBe('toggle-list')
    expect(shortcutFor(key('B', { metaKey: true, shiftKey: true }))).toBeNull()
  })

  it('switches conversations with Alt+arrows and stops with Escape', () => {
    expect(shortcutFor(key('ArrowDown', { altKey: true }))).toBe('next')
    expect(shortcutFor(key('ArrowUp', { altKey: true }))).toBe('previous')
    expect(shortcutFor(key('Escape'))).toBe('stop')
  })

  it('leaves ordinary typing and other combinations alone', () => {
    expect(shortcutFor(key('n'))).toBeNull()
    expect(shortcutFor(key('n', { ctrlKey: true, shiftKey: true }))).toBeNull()
    expect(shortcutFor(key('ArrowDown'))).toBeNull()
    expect(shortcutFor(key('b', { altKey: true }))).toBeNull()
    expect(shortcutFor(key('Escape', { ctrlKey: true }))).toBeNull()
  })

  it('reads every shortcut from the one table', () => {
    for (const s of SHORTCUTS) {
      const last = s.keys[s.keys.length - 1]
      const eventKey = ({ '↓': 'ArrowDown', '↑': 'ArrowUp', Esc: 'Escape' } as Record<string, string>)[last] ?? last
      const mods = { ctrlKey: s.keys.includes('Mod'), altKey: s.keys.includes('Alt'), shiftKey: last === '?' }
      expect(shortcutFor(key(eventKey, mods))).toBe(s.action)
    }
  })
})

describe('the shortcuts sheet and tooltips', () => {
  it('opens Settings with Ctrl+, and the sheet with ? unless typing in a field', () => {
    expect(shortcutFor(key(',', { ctrlKey: true }))).toBe('settings')
    expect(shortcutFor(key('?', { shiftKey: true }))).toBe('help')
    expect(shortcutFor({ ...key('?', { shiftKey: true }), typing: true })).toBeNull()
  })

  it('labels each shortcut the way the platform writes it', () => {
    expect(shortcutLabel('new-chat', false)).toBe('Ctrl+N')
    expect(shortcutLabel('new-chat', true)).toBe('⌘N')
    expect(shortcutLabel('next', true)).toBe('⌥↓')
    expect(shortcutLabel('stop', false)).toBe('Esc')
    expect(shortcutLabel('toggle-list', false)).toBe('Ctrl+B')
    expect(ariaKeyShortcuts('toggle-list', true)).toBe('Meta+B')
    expect(ariaKeyShortcuts('next', false)).toBe('Alt+ArrowDown')
    expect(ariaKeyShortcuts('help', false)).toBe('Shift+?')
    expect(withShortcut('New chat', 'new-chat')).toMatch(/^New chat \((Ctrl\+N|⌘N)\)$/)
    expect(new Set(SHORTCUTS.map((s) => s.action)).size).toBe(SHORTCUTS.length)
  })
})
