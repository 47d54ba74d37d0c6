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
}))
vi.mock('@/api/shell', () => ({ inTauri: () => true, ...shell }))

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
    shell.getShellSettings.mockResolvedValue({ closeToTray: true })
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
