import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { createMemoryHistory, createRouter } from 'vue-router'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { SHORTCUTS } from '@/composables/shortcuts'

import ShortcutsSheet from './ShortcutsSheet.vue'

// jsdom has no modal dialogs: showModal/close set `open` as a browser does.
HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) { this.open = true }
HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) { this.open = false }

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
    const dialog = view.get('[data-testid="shortcuts-sheet"]').element as HTMLDialogElement
    const field = document.createElement('input')
    document.body.appendChild(field)
    press('?', { shiftKey: true }, field)
    expect(dialog.open).toBe(false)
    press('?', { shiftKey: true })
    expect(dialog.open).toBe(true)
    const rows = view.findAll('[data-testid="shortcut-row"]')
    expect(rows.map((r) => r.attributes('data-action'))).toEqual(SHORTCUTS.map((s) => s.action))
    expect(rows[0].text()).toBe('New chatCtrl+N')
    await view.get('[data-testid="shortcuts-close"]').trigger('click')
    expect(dialog.open).toBe(false)
    field.remove()
    view.unmount()
  })

  it('opens Settings with Ctrl+, and speaks Chinese', async () => {
    const { view, router } = await show('zh')
    press(',', { ctrlKey: true })
    await router.isReady()
    await new Promise((r) => setTimeout(r, 0))
    expect(router.currentRoute.value.path).toBe('/settings')
    expect(view.get('#shortcuts-title').text()).toBe('键盘快捷键')
    expect(view.get('[data-testid="shortcuts-open"]').attributes('aria-label')).toBe('键盘快捷键（?）')
    view.unmount()
  })
})
