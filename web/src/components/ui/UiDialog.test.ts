import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defineComponent, ref } from 'vue'

import { askConfirm } from '@/composables/confirm'

import ConfirmHost from './ConfirmHost.vue'
import { installJsdomShims, press } from './testing'
import UiDialog from './UiDialog.vue'
import UiSelect from './UiSelect.vue'

beforeAll(installJsdomShims)
afterEach(() => {
  document.body.innerHTML = ''
})

describe('UiDialog (Reka Dialog)', () => {
  it('is a labelled modal with focus inside; Escape and the close button close it, focus back', async () => {
    const Host = defineComponent({
      components: { UiDialog },
      setup: () => ({ open: ref(false) }),
      template: `<button data-testid="opener" @click="open = true">Open</button>
        <UiDialog v-model:open="open" title="Shortcuts" close-label="Close" close-testid="close" data-testid="sheet"><a href="#x">inside</a></UiDialog>`,
    })
    const wrapper = mount(Host, { attachTo: document.body })
    const opener = document.querySelector('[data-testid="opener"]') as HTMLElement
    opener.focus()
    opener.click()
    await flushPromises()
    const dialog = document.querySelector('[data-testid="sheet"]') as HTMLElement
    expect(dialog.getAttribute('role')).toBe('dialog')
    expect(document.getElementById(dialog.getAttribute('aria-labelledby') ?? '')?.textContent).toContain('Shortcuts')
    expect(dialog.hasAttribute('aria-describedby')).toBe(false) // no description: no dangling reference
    await vi.waitFor(() => expect(dialog.contains(document.activeElement)).toBe(true))
    await press('Escape')
    await flushPromises()
    expect(document.querySelector('[data-testid="sheet"]')).toBeNull()
    await vi.waitFor(() => expect(document.activeElement).toBe(opener))

    opener.click()
    await flushPromises()
    ;(document.querySelector('[data-testid="close"]') as HTMLElement).click()
    await flushPromises()
    expect(document.querySelector('[data-testid="sheet"]')).toBeNull()
    wrapper.unmount()
  })
})

describe('the page behind a popup is inert (ui/inertOutside.ts)', () => {
  it('a select list inside a dialog: the dialog is usable again once the list closes, the page once the dialog does', async () => {
    const Host = defineComponent({
      components: { UiDialog, UiSelect },
      setup: () => ({ open: ref(true), value: ref('a'), options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }] }),
      template: `<nav><a href="#x">Elsewhere</a></nav>
        <UiDialog v-model:open="open" title="Import" close-label="Close" data-testid="dlg"><UiSelect v-model="value" :options="options" data-testid="pick" /></UiDialog>`,
    })
    const wrapper = mount(Host, { attachTo: document.body })
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
    const nav = document.querySelector('nav') as HTMLElement
    const dialog = () => document.querySelector('[data-testid="dlg"]') as HTMLElement
    const inert = (el: Element) => !!el.closest('[inert]')
    expect(inert(nav)).toBe(true)
    expect(inert(dialog())).toBe(false)

    const trigger = document.querySelector('[data-testid="pick"]') as HTMLElement
    trigger.focus()
    await press('Enter')
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(inert(dialog())).toBe(true) // the list is modal over the dialog
    await press('Escape')
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(inert(dialog())).toBe(false)
    expect(inert(nav)).toBe(true) // still behind the dialog
    await vi.waitFor(() => expect(document.activeElement).toBe(trigger))

    await press('Escape')
    await flushPromises()
    expect(document.querySelectorAll('[inert]')).toHaveLength(0)
    wrapper.unmount()
  })
})

describe('askConfirm + ConfirmHost (Reka AlertDialog)', () => {
  const ask = () => askConfirm({ title: 'Please confirm', message: 'Empty the trash?', confirmLabel: 'Empty', cancelLabel: 'Cancel', testid: 'q' })

  it('asks in an alertdialog with Cancel focused; each button and Escape answer once', async () => {
    const wrapper = mount(ConfirmHost, { attachTo: document.body })
    const first = ask()
    await flushPromises()
    const dialog = document.querySelector('[data-testid="q"]') as HTMLElement
    expect(dialog.getAttribute('role')).toBe('alertdialog')
    expect(dialog.textContent).toContain('Empty the trash?')
    await vi.waitFor(() => expect(document.activeElement?.getAttribute('data-testid')).toBe('q-cancel'))
    ;(document.querySelector('[data-testid="q-open"]') as HTMLElement).click()
    expect(await first).toBe(true)
    await flushPromises()
    expect(document.querySelector('[data-testid="q"]')).toBeNull()

    const second = ask()
    const third = ask() // queued behind the second
    await flushPromises()
    ;(document.querySelector('[data-testid="q-cancel"]') as HTMLElement).click()
    expect(await second).toBe(false)
    await flushPromises()
    expect(document.querySelector('[data-testid="q"]')).not.toBeNull() // the third, now
    await press('Escape')
    expect(await third).toBe(false)
    await flushPromises()
    expect(document.querySelector('[data-testid="q"]')).toBeNull()
    wrapper.unmount()
  })
})
