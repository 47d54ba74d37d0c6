import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { Prompt } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ list: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, prompts: api }))

import ChatComposer from './ChatComposer.vue'

const prompt = (title: string, content: string, description = ''): Prompt =>
  ({ id: title, title, description, content, variables: [], created_at: '', updated_at: '' }) as Prompt
const library = [
  prompt('Explain code', 'Explain this code'),
  prompt('Summarize', 'Summarize {{text}} for {{ audience }}', 'Key points'),
  prompt('Translate', 'Translate into French'),
]

function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  const wrapper = mount(ChatComposer, {
    props: { modelValue: '', busy: false, 'onUpdate:modelValue': (text: string) => wrapper.setProps({ modelValue: text }) },
    global: { plugins: [i18n, createPinia()] },
    attachTo: document.body,
  })
  return wrapper
}

async function type(wrapper: ReturnType<typeof show>, text: string): Promise<void> {
  await wrapper.find('[data-testid="composer"]').setValue(text)
  await flushPromises()
}

const press = (wrapper: ReturnType<typeof show>, key: string, selector = '[data-testid="composer"]') =>
  wrapper.find(selector).trigger('keydown', { key })
const titles = (wrapper: ReturnType<typeof show>) =>
  wrapper.findAll('[data-testid="prompt-option"] strong').map((el) => el.text())

beforeEach(() => {
  api.list.mockReset().mockResolvedValue(library)
  document.body.innerHTML = ''
})

describe('the / prompt picker', () => {
  it('opens on / at the start, fuzzy-searches, and inserts with the arrow keys and Enter', async () => {
    const wrapper = show()
    await type(wrapper, 'hello /')
    expect(wrapper.find('[data-testid="prompt-picker"]').exists()).toBe(false)
    await type(wrapper, '/')
    expect(titles(wrapper)).toEqual(['Explain code', 'Summarize', 'Translate'])
    await type(wrapper, '/tr')
    expect(titles(wrapper)[0]).toBe('Translate')
    await type(wrapper, '/e')
    await press(wrapper, 'ArrowDown')
    expect(wrapper.find('[aria-selected="true"]').text()).toContain(titles(wrapper)[1])
    await press(wrapper, 'ArrowUp')
    await press(wrapper, 'ArrowUp') // wraps round to the last
    const last = titles(wrapper).at(-1)
    await press(wrapper, 'Enter')
    expect(wrapper.emitted('send')).toBeUndefined() // Enter inserted, it did not send
    expect(wrapper.props('modelValue')).toBe(library.find((p) => p.title === last)?.content)
    expect(wrapper.find('[data-testid="prompt-picker"]').exists()).toBe(false)
    expect(api.list).toHaveBeenCalledTimes(1)
  })

  it('asks for each variable in turn, then inserts the filled prompt', async () => {
    const wrapper = show()
    await type(wrapper, '/summ')
    await press(wrapper, 'Enter')
    await flushPromises()
    const fill = wrapper.find('[data-testid="prompt-fill"]')
    expect(fill.findAll('label span').map((el) => el.text())).toEqual(['text', 'audience'])
    expect(document.activeElement).toBe(wrapper.find('[data-testid="prompt-var-0"]').element)
    await wrapper.find('[data-testid="prompt-var-0"]').setValue('the report')
    await press(wrapper, 'Enter', '[data-testid="prompt-var-0"]')
    expect(document.activeElement).toBe(wrapper.find('[data-testid="prompt-var-1"]').element)
    await wrapper.find('[data-testid="prompt-var-1"]').setValue('managers')
    await press(wrapper, 'Enter', '[data-testid="prompt-var-1"]')
    expect(wrapper.props('modelValue')).toBe('Summarize the report for managers')
    expect(wrapper.find('[data-testid="prompt-fill"]').exists()).toBe(false)
    expect(document.activeElement).toBe(wrapper.find('[data-testid="composer"]').element)
  })

  it('closes on Escape without sending or clearing, and Enter then sends as usual', async () => {
    const wrapper = show('zh')
    await type(wrapper, '/nothing-like-it')
    expect(wrapper.find('[data-testid="prompt-none"]').text()).toBe(zh.prompts.picker.none)
    await press(wrapper, 'Escape')
    expect(wrapper.find('[data-testid="prompt-picker"]').exists()).toBe(false)
    expect(wrapper.props('modelValue')).toBe('/nothing-like-it')
    await press(wrapper, 'Enter')
    expect(wrapper.emitted('send')).toHaveLength(1)
  })

  it('follows the ARIA 1.2 combobox pattern on the textarea, which keeps the focus', async () => {
    const wrapper = show()
    const field = () => wrapper.find('[data-testid="composer"]')
    const attr = (name: string) => field().attributes(name)
    expect(attr('role')).toBeUndefined() // a plain textarea until the list opens
    ;(field().element as HTMLElement).focus()
    await type(wrapper, '/')
    expect(attr('role')).toBe('combobox')
    expect(attr('aria-expanded')).toBe('true')
    expect(attr('aria-autocomplete')).toBe('list')
    const list = document.getElementById(attr('aria-controls') ?? '-')
    expect(list?.getAttribute('role')).toBe('listbox')
    const activeOption = () => document.getElementById(attr('aria-activedescendant') ?? '-')
    expect(activeOption()?.getAttribute('aria-selected')).toBe('true')
    expect(activeOption()?.textContent).toContain(titles(wrapper)[0])
    await press(wrapper, 'ArrowDown')
    expect(activeOption()?.textContent).toContain(titles(wrapper)[1])
    expect(document.activeElement).toBe(field().element)
    await type(wrapper, '/zzzz') // no match: collapsed, nothing to point at
    expect(attr('aria-expanded')).toBe('false')
    expect(attr('aria-activedescendant')).toBeUndefined()
    await press(wrapper, 'Escape')
    expect(attr('role')).toBeUndefined()
    expect(attr('aria-expanded')).toBeUndefined()
  })
})
