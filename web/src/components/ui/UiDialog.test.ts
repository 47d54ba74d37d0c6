import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defineComponent, ref } from 'vue'

import { askConfirm } from '@/composables/confirm'

import ConfirmHost from './ConfirmHost.vue'
import { installJsdomShims, press } from './testing'
import UiDialog from './UiDialog.vue'

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
    expect(dialog.contains(document.activeElement)).toBe(true)
    await press('Escape')
    await flushPromises()
    expect(document.querySelector('[data-testid="sheet"]')).toBeNull()
    expect(document.activeElement).toBe(opener)

    opener.click()
    await flushPromises()
    ;(document.querySelector('[data-testid="close"]') as HTMLElement).click()
    await flushPromises()
    expect(document.querySelector('[data-testid="sheet"]')).toBeNull()
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
    expect(document.activeElement?.getAttribute('data-testid')).toBe('q-cancel')
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
