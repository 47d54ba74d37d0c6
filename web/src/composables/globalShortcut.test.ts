import { describe, expect, it } from 'vitest'

import { acceleratorOf, displayAccelerator, localProblem } from './globalShortcut'

const press = (key: string, code: string, mods: Partial<Record<'ctrlKey' | 'altKey' | 'shiftKey' | 'metaKey', boolean>> = {}) => ({
  key, code, ctrlKey: false, altKey: false, shiftKey: false, metaKey: false, ...mods,
})

describe('acceleratorOf', () => {
  it('builds the shell\'s syntax from a press, modifiers first', () => {
    expect(acceleratorOf(press('k', 'KeyK', { ctrlKey: true, altKey: true }))).toBe('Ctrl+Alt+KeyK')
    expect(acceleratorOf(press(' ', 'Space', { metaKey: true, shiftKey: true }))).toBe('Shift+Super+Space')
    expect(acceleratorOf(press('F9', 'F9'))).toBe('F9')
  })

  it('waits while only modifiers are down', () => {
    expect(acceleratorOf(press('Control', 'ControlLeft', { ctrlKey: true }))).toBeNull()
    expect(acceleratorOf(press('Shift', 'ShiftLeft', { ctrlKey: true, shiftKey: true }))).toBeNull()
  })
})

describe('localProblem', () => {
  it('refuses what would swallow typing, like the shell', () => {
    expect(localProblem('KeyK')).toBe('invalid')
    expect(localProblem('Shift+KeyK')).toBe('invalid')
    expect(localProblem('Ctrl+Shift+Space')).toBeNull()
    expect(localProblem('CommandOrControl+Shift+Space')).toBeNull()
    expect(localProblem('F9')).toBeNull()
  })
})

describe('displayAccelerator', () => {
  it('writes it the platform\'s way', () => {
    expect(displayAccelerator('CommandOrControl+Shift+Space', false)).toBe('Ctrl+Shift+Space')
    expect(displayAccelerator('CommandOrControl+Shift+Space', true)).toBe('⌘⇧Space')
    expect(displayAccelerator('Ctrl+Alt+KeyK', false)).toBe('Ctrl+Alt+K')
    expect(displayAccelerator('Super+Digit1', false)).toBe('Super+1')
    expect(displayAccelerator('', false)).toBe('')
  })
})
