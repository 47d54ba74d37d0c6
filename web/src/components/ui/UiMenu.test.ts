import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

import { installJsdomShims, press } from './testing'
import UiMenu from './UiMenu.vue'

beforeAll(installJsdomShims)
afterEach(() => {
  document.body.innerHTML = ''
})

const items = [
  { id: 'markdown', label: 'Markdown', testid: 'export-markdown' },
  { id: 'json', label: 'JSON', testid: 'export-json' },
]

function show() {
  return mount(UiMenu, { props: { items }, attrs: { 'aria-label': 'Export', 'data-testid': 'export' }, slots: { default: 'E' }, attachTo: document.body })
}
const trigger = () => document.querySelector('[data-testid="export"]') as HTMLElement
const menu = () => document.querySelector('[role="menu"]')

describe('UiMenu (Reka DropdownMenu)', () => {
  it('is a labelled menu button; Enter opens it on the first item, arrows move, Enter picks and closes', async () => {
    const wrapper = show()
    expect(trigger().getAttribute('aria-haspopup')).toBe('menu')
    expect(trigger().getAttribute('aria-label')).toBe('Export')
    trigger().focus()
    await press('Enter')
    await flushPromises()
    expect([...document.querySelectorAll('[role="menuitem"]')].map((m) => m.textContent?.trim())).toEqual(['Markdown', 'JSON'])
    await vi.waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe('Markdown'))
    await press('ArrowDown')
    await vi.waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe('JSON'))
    await press('Enter')
    await flushPromises()
    expect(wrapper.emitted('select')).toEqual([['json']])
    expect(menu()).toBeNull()
    wrapper.unmount()
  })

  it('Escape closes it with focus back on the button, picking nothing', async () => {
    const wrapper = show()
    trigger().focus()
    await press('ArrowDown')
    await flushPromises()
    expect(menu()).not.toBeNull()
    await press('Escape')
    await flushPromises()
    expect(menu()).toBeNull()
    await vi.waitFor(() => expect(document.activeElement).toBe(trigger()))
    expect(wrapper.emitted('select')).toBeUndefined()
    wrapper.unmount()
  })
})
