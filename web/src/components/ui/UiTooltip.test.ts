import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { h } from 'vue'

import type { ShortcutAction } from '@/composables/shortcuts'

import { installJsdomShims, press } from './testing'
import UiMenu from './UiMenu.vue'
import UiTooltip from './UiTooltip.vue'

beforeAll(installJsdomShims)
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
  document.body.innerHTML = ''
})

function show(props: { text: string; shortcut?: ShortcutAction } = { text: 'New chat', shortcut: 'new-chat' }) {
  return mount(UiTooltip, {
    props,
    slots: { default: () => h('button', { type: 'button', 'aria-label': 'New', 'data-testid': 'target' }, 'N') },
    attachTo: document.body,
  })
}
const target = () => document.querySelector('[data-testid="target"]') as HTMLButtonElement
const tooltip = () => document.querySelector('[data-testid="tooltip"]')
/** The visible text (the content also holds Reka's hidden role="tooltip" copy). */
const shown = () => tooltip()?.querySelector('span')?.textContent
const described = () => document.getElementById(target().getAttribute('aria-describedby') ?? '-')

describe('UiTooltip (Reka Tooltip)', () => {
  it('appears on keyboard focus with the shortcut as <kbd>, describes the control, leaves its label', async () => {
    const wrapper = show()
    expect(tooltip()).toBeNull()
    expect(target().hasAttribute('aria-describedby')).toBe(false)
    await press('Tab') // focus-visible comes from a keyboard
    target().focus()
    await flushPromises()
    expect(tooltip()?.querySelector('kbd')?.textContent).toBe('Ctrl+N')
    expect(described()?.getAttribute('role')).toBe('tooltip')
    expect(described()?.textContent).toBe('New chat (Ctrl+N)')
    expect(target().getAttribute('aria-label')).toBe('New')
    expect(target().getAttribute('aria-keyshortcuts')).toBe('Control+N')
    await press('Escape')
    await flushPromises()
    expect(tooltip()).toBeNull()
    wrapper.unmount()
  })

  it('appears on hover after a short delay and goes when the control is pressed', async () => {
    vi.useFakeTimers()
    const wrapper = show({ text: 'Rename' })
    target().dispatchEvent(new PointerEvent('pointermove', { bubbles: true, pointerType: 'mouse' }))
    await vi.advanceTimersByTimeAsync(600)
    await flushPromises()
    expect(shown()).toBe('Rename')
    expect(tooltip()?.querySelector('kbd')).toBeNull()
    target().dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, pointerType: 'mouse' }))
    await vi.advanceTimersByTimeAsync(50)
    await flushPromises()
    expect(tooltip()).toBeNull()
    wrapper.unmount()
  })

  it('writes the keys as macOS does there', async () => {
    vi.spyOn(navigator, 'platform', 'get').mockReturnValue('MacIntel')
    const wrapper = show({ text: 'Hide the conversation list', shortcut: 'toggle-list' })
    await press('Tab')
    target().focus()
    await flushPromises()
    expect(tooltip()?.querySelector('kbd')?.textContent).toBe('⌘B')
    wrapper.unmount()
  })
})

describe('UiMenu with shortcuts', () => {
  it('shows an item\'s shortcut beside it', async () => {
    const wrapper = mount(UiMenu, {
      props: { items: [{ id: 'new', label: 'New chat', shortcut: 'new-chat' }, { id: 'x', label: 'Other' }] },
      attrs: { 'aria-label': 'More', 'data-testid': 'more' },
      slots: { default: 'M' },
      attachTo: document.body,
    })
    const trigger = document.querySelector('[data-testid="more"]') as HTMLElement
    trigger.focus()
    await press('Enter')
    await flushPromises()
    const items = [...document.querySelectorAll('[role="menuitem"]')]
    expect(items.map((i) => i.querySelector('kbd')?.textContent ?? null)).toEqual(['Ctrl+N', null])
    wrapper.unmount()
  })

  it('a menu trigger shows its tooltip on focus and opens its menu on a click', async () => {
    const wrapper = mount(UiMenu, {
      props: { items: [{ id: 'md', label: 'Markdown' }], tooltip: 'Export' },
      attrs: { 'aria-label': 'Export', 'data-testid': 'export' },
      slots: { default: 'E' },
      attachTo: document.body,
    })
    const trigger = document.querySelector('[data-testid="export"]') as HTMLElement
    await press('Tab')
    trigger.focus()
    await flushPromises()
    expect(shown()).toBe('Export')
    trigger.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 }))
    await flushPromises()
    expect(document.querySelector('[role="menu"]')).not.toBeNull()
    expect(trigger.getAttribute('aria-expanded')).toBe('true')
    wrapper.unmount()
  })
})
