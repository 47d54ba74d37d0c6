import { flushPromises, mount } from '@vue/test-utils'
import { beforeAll, describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { createMemoryHistory, createRouter } from 'vue-router'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { SHORTCUTS } from '@/composables/shortcuts'

import ShortcutsSheet from './ShortcutsSheet.vue'
import { installJsdomShims } from './ui/testing'

beforeAll(installJsdomShims)
const sheet = () => document.querySelector('[data-testid="shortcuts-sheet"]')

async function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { render: () => null } }, { path: '/settings', component: { render: () => null } }] })
  await router.push('/')
  const view = mount(ShortcutsSheet, { global: { plugins: [i18n, router] }, attachTo: document.body })
  return { view, router }
}

const press = (key: string, init: KeyboardEventInit = {}, target: EventTarget = document.body) =>
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }))

describe('ShortcutsSheet', () => {
  it('opens with ? and lists every shortcut with its keys; not while typing in a field', async () => {
    const { view } = await show()
    const field = document.createElement('input')
    document.body.appendChild(field)
    press('?', { shiftKey: true }, field)
    await flushPromises()
    expect(sheet()).toBeNull()
    press('?', { shiftKey: true })
    await flushPromises()
    expect(sheet()?.getAttribute('role')).toBe('dialog')
    const rows = [...document.querySelectorAll('[data-testid="shortcut-row"]')]
    expect(rows.map((r) => r.getAttribute('data-action'))).toEqual(SHORTCUTS.map((s) => s.action))
    expect(rows[0].textContent).toBe('New chatCtrl+N')
    ;(document.querySelector('[data-testid="shortcuts-close"]') as HTMLElement).click()
    await flushPromises()
    expect(sheet()).toBeNull()
    field.remove()
    view.unmount()
  })

  it('opens Settings with Ctrl+, and speaks Chinese', async () => {
    const { view, router } = await show('zh')
    press(',', { ctrlKey: true })
    await router.isReady()
    await new Promise((r) => setTimeout(r, 0))
    expect(router.currentRoute.value.path).toBe('/settings')
    ;(document.querySelector('[data-testid="shortcuts-open"]') as HTMLElement).click()
    await flushPromises()
    expect(sheet()?.querySelector('h2')?.textContent?.trim()).toBe('键盘快捷键')
    expect(view.get('[data-testid="shortcuts-open"]').attributes('aria-label')).toBe('键盘快捷键（?）')
    view.unmount()
  })
})
