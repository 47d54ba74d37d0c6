import { describe, expect, it } from 'vitest'

import { shortcutFor } from './shortcuts'

const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) => ({
  key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods,
})

describe('shortcutFor', () => {
  it('maps Ctrl and ⌘ alike', () => {
    expect(shortcutFor(key('n', { ctrlKey: true }))).toBe('new-chat')
    expect(shortcutFor(key('N', { metaKey: true }))).toBe('new-chat')
    expect(shortcutFor(key('k', { ctrlKey: true }))).toBe('search')
    expect(shortcutFor(key('l', { metaKey: true }))).toBe('composer')
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
  })
})
