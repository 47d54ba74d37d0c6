import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defineComponent, ref } from 'vue'

import { installJsdomShims, press } from './testing'
import UiSelect from './UiSelect.vue'

beforeAll(installJsdomShims)
afterEach(() => {
  document.body.innerHTML = ''
})

const OPTIONS = [
  { value: '', label: 'Default' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
  { value: 'off', label: 'Off', disabled: true },
]

function show(initial = 'light') {
  const Host = defineComponent({
    components: { UiSelect },
    setup: () => ({ value: ref(initial), options: OPTIONS }),
    template: `<nav><a href="#elsewhere">Elsewhere</a></nav>
      <label>Theme <UiSelect v-model="value" :options="options" data-testid="theme" /></label><output>{{ value }}</output>`,
  })
  return mount(Host, { attachTo: document.body })
}

const trigger = () => document.querySelector('[data-testid="theme"]') as HTMLElement
const listbox = () => document.querySelector('[role="listbox"]')
const options = () => [...document.querySelectorAll('[role="option"]')].map((o) => o.textContent?.trim())

describe('UiSelect (Reka Select)', () => {
  it('is a labelled combobox showing the chosen label, with the value for tests', async () => {
    const wrapper = show()
    await flushPromises()
    expect(trigger().getAttribute('role')).toBe('combobox')
    expect(trigger().getAttribute('aria-expanded')).toBe('false')
    expect(trigger().textContent).toContain('Light')
    expect(trigger().dataset.value).toBe('light')
    // The <label> around it labels the trigger button (a labelable element).
    expect((trigger() as HTMLButtonElement).labels?.[0]?.textContent).toContain('Theme')
    wrapper.unmount()
  })

  for (const key of ['Enter', ' ', 'ArrowDown']) {
    it(`opens with ${JSON.stringify(key)}, lists the options, and Escape closes it with focus back`, async () => {
      const wrapper = show()
      trigger().focus()
      await press(key)
      await flushPromises()
      expect(listbox()).not.toBeNull()
      expect(trigger().getAttribute('aria-expanded')).toBe('true')
      expect(options()).toEqual(['Default', 'Light', 'Dark', 'Off'])
      expect(document.querySelector('[role="option"][data-value="off"]')?.hasAttribute('data-disabled')).toBe(true)
      await press('Escape')
      await flushPromises()
      expect(listbox()).toBeNull()
      await vi.waitFor(() => expect(document.activeElement).toBe(trigger()))
      expect(wrapper.find('output').text()).toBe('light')
      wrapper.unmount()
    })
  }

  it('chooses with the arrows and Enter; "" is a real choice', async () => {
    const wrapper = show()
    trigger().focus()
    await press('Enter')
    await flushPromises()
    await vi.waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe('Light')) // starts on the chosen one
    await press('ArrowDown')
    await vi.waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe('Dark'))
    await press('Enter')
    await flushPromises()
    expect(listbox()).toBeNull()
    expect(wrapper.find('output').text()).toBe('dark')
    expect(trigger().dataset.value).toBe('dark')

    trigger().focus()
    await press('Enter')
    await flushPromises()
    await press('Home')
    await vi.waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe('Default'))
    await press('Enter')
    await flushPromises()
    expect(wrapper.find('output').text()).toBe('')
    expect(trigger().textContent).toContain('Default')
    wrapper.unmount()
  })

  it('makes the page behind inert while open (aria-hidden alone fails axe with focusable content) and undoes it', async () => {
    const wrapper = show()
    const nav = document.querySelector('nav') as HTMLElement
    trigger().focus()
    await press('Enter')
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0)) // the observer's records
    const hidden = [...document.querySelectorAll('[data-aria-hidden="true"]')]
    expect(hidden.length).toBeGreaterThan(0)
    expect(hidden.every((el) => el.hasAttribute('inert'))).toBe(true)
    expect(hidden.some((el) => el.contains(nav))).toBe(true)
    await press('Escape')
    await flushPromises()
    expect(document.querySelectorAll('[inert]')).toHaveLength(0)
    await vi.waitFor(() => expect(document.activeElement).toBe(trigger()))
    wrapper.unmount()
  })
})
