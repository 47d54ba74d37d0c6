import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { StartupError } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

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
})
