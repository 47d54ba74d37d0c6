import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const shell = vi.hoisted(() => ({
  getShellSettings: vi.fn(),
  setShellSettings: vi.fn(),
  getStartAtLogin: vi.fn(),
  setStartAtLogin: vi.fn(),
  quickAskShortcutStatus: vi.fn(),
}))
vi.mock('@/api/shell', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/shell')>()),
  inTauri: () => true,
  ...shell,
}))

import { ShellCommandError } from '@/api/shell'

import DesktopSettings from './DesktopSettings.vue'

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })
const show = async () => {
  const view = mount(DesktopSettings, { global: { plugins: [i18n] } })
  await flushPromises()
  return view
}

describe('DesktopSettings: start at login', () => {
  beforeEach(() => {
    vi.resetAllMocks()
    shell.getShellSettings.mockResolvedValue({ closeToTray: true, quickAskShortcut: 'CommandOrControl+Shift+Space' })
    shell.quickAskShortcutStatus.mockResolvedValue(null)
  })

  it('shows what the system has and turns it on through the shell', async () => {
    shell.getStartAtLogin.mockResolvedValue(false)
    shell.setStartAtLogin.mockResolvedValue(true)
    const view = await show()
    const box = view.get<HTMLInputElement>('[data-testid="start-at-login"]')
    expect(box.element.checked).toBe(false)
    expect(view.text()).toContain('Start Sage when I log in.')
    await box.setValue(true)
    await flushPromises()
    expect(shell.setStartAtLogin).toHaveBeenCalledWith(true)
    expect(box.element.checked).toBe(true)
  })

  it('keeps the old state and says why when the system refuses', async () => {
    shell.getStartAtLogin.mockResolvedValue(false)
    shell.setStartAtLogin.mockRejectedValue(new Error('could not turn on starting Sage at login: read-only'))
    const view = await show()
    const box = view.get<HTMLInputElement>('[data-testid="start-at-login"]')
    await box.setValue(true)
    await flushPromises()
    expect(box.element.checked).toBe(false)
    expect(view.get('[role="alert"]').text()).toContain('read-only')
  })
})

describe('DesktopSettings: the quick-ask shortcut', () => {
  const registered = { shortcut: 'CommandOrControl+Shift+Space', registered: true, problem: null, message: null }
  beforeEach(() => {
    vi.resetAllMocks()
    shell.getStartAtLogin.mockResolvedValue(false)
    shell.getShellSettings.mockResolvedValue({ closeToTray: true, quickAskShortcut: 'CommandOrControl+Shift+Space' })
    shell.quickAskShortcutStatus.mockResolvedValue(registered)
  })

  it('shows the shortcut and records a new one from a key press', async () => {
    shell.setShellSettings.mockImplementation(async (settings) => settings)
    const view = await show()
    expect(view.get('[data-testid="shortcut-current"]').text()).toMatch(/Shift/)
    await view.get('[data-testid="shortcut-change"]').trigger('click')
    const recorder = view.get('[data-testid="shortcut-recorder"]')
    await recorder.trigger('keydown', { key: 'Control', code: 'ControlLeft', ctrlKey: true })
    expect(shell.setShellSettings).not.toHaveBeenCalled()
    await recorder.trigger('keydown', { key: 'k', code: 'KeyK', ctrlKey: true, altKey: true })
    await flushPromises()
    expect(shell.setShellSettings).toHaveBeenCalledWith({ closeToTray: true, quickAskShortcut: 'Ctrl+Alt+KeyK' })
    expect(view.get('[data-testid="shortcut-current"]').text()).toContain('K')
  })

  it('refuses a shortcut that would swallow typing without asking the shell', async () => {
    const view = await show()
    await view.get('[data-testid="shortcut-change"]').trigger('click')
    await view.get('[data-testid="shortcut-recorder"]').trigger('keydown', { key: 'K', code: 'KeyK', shiftKey: true })
    await flushPromises()
    expect(shell.setShellSettings).not.toHaveBeenCalled()
    expect(view.get('[data-testid="shortcut-error"]').text()).toContain('Shift+K cannot be a global shortcut')
  })

  it('says in the UI language when another application holds it', async () => {
    shell.setShellSettings.mockRejectedValue(
      new ShellCommandError({ kind: 'shortcut', problem: 'in-use', shortcut: 'Ctrl+Alt+KeyK', message: 'HotKey already registered' }),
    )
    i18n.global.locale.value = 'zh'
    try {
      const view = await show()
      await view.get('[data-testid="shortcut-change"]').trigger('click')
      await view.get('[data-testid="shortcut-recorder"]').trigger('keydown', { key: 'k', code: 'KeyK', ctrlKey: true, altKey: true })
      await flushPromises()
      expect(view.get('[data-testid="shortcut-error"]').text()).toBe('Ctrl+Alt+K 已被其他应用占用，请换一个。')
    } finally {
      i18n.global.locale.value = 'en'
    }
  })

  it('shows why the saved shortcut is not active (refused at start)', async () => {
    shell.quickAskShortcutStatus.mockResolvedValue({ ...registered, registered: false, problem: 'in-use', message: 'x' })
    const view = await show()
    expect(view.get('[data-testid="shortcut-status"]').text()).toContain('already used by another application')
  })
})
