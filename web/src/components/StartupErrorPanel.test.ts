import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { StartupError } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const asked = vi.hoisted(() => ({ askConfirm: vi.fn() }))
vi.mock('@/composables/confirm', () => asked)

import StartupErrorPanel from './StartupErrorPanel.vue'

const i18n = createI18n({ legacy: false, locale: 'zh', fallbackLocale: 'en', messages: { en, zh } })
const show = (error: Omit<StartupError, 'logPath'>) =>
  mount(StartupErrorPanel, { props: { error: { logPath: '/d/logs/shell.log', ...error } }, global: { plugins: [i18n] } })

describe('StartupErrorPanel', () => {
  it("translates a refusal the sidecar explained with a code (a database from a newer Sage)", () => {
    const panel = show({
      message: 'This data was written by a newer version of Sage',
      code: 'storage.newer_database',
      params: { revision: '0012', supported: '0009' },
    })
    const text = panel.get('[data-testid="startup-message"]').text()
    expect(text).toContain('0012')
    expect(text).toContain('0009')
    expect(text).not.toContain('newer version')
    expect(panel.get('[data-testid="log-path"]').text()).toBe('/d/logs/shell.log')
  })

  it("shows the shell's message when there is no code", () => {
    const panel = show({ message: 'the sidecar exited before it was ready (exit code 1)', code: null })
    expect(panel.get('[data-testid="startup-message"]').text()).toBe('the sidecar exited before it was ready (exit code 1)')
  })

  describe('an encrypted database that cannot be opened', () => {
    afterEach(() => {
      vi.restoreAllMocks()
      delete (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__
    })
    const keyGone = { message: 'key unavailable', code: 'storage.key_unavailable', params: { path: '/d/agent_platform.db', reason: 'locked' } }

    it('offers to start fresh in the desktop app, and asks first', async () => {
      ;(window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__ = {}
      asked.askConfirm.mockResolvedValueOnce(false).mockResolvedValueOnce(true)
      const panel = show(keyGone)
      await panel.get('[data-testid="start-fresh"]').trigger('click')
      await flushPromises()
      expect(panel.emitted('startFresh')).toBeUndefined() // declined
      await panel.get('[data-testid="start-fresh"]').trigger('click')
      await flushPromises()
      expect(asked.askConfirm).toHaveBeenCalledTimes(2)
      expect(asked.askConfirm).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringContaining('备份'), testid: 'start-fresh-confirm' }))
      expect(panel.emitted('startFresh')).toHaveLength(1)
    })

    it('offers nothing of the kind for other failures or in a plain browser', () => {
      expect(show(keyGone).find('[data-testid="start-fresh"]').exists()).toBe(false)
      ;(window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__ = {}
      expect(show({ message: 'exited', code: null }).find('[data-testid="start-fresh"]').exists()).toBe(false)
    })
  })
})
