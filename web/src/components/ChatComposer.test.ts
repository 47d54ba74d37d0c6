import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import ChatComposer from './ChatComposer.vue'

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })

describe('ChatComposer: attach', () => {
  it('is a named, focusable button with an SVG icon that opens the file picker', async () => {
    setActivePinia(createPinia())
    const view = mount(ChatComposer, { props: { modelValue: '', busy: false }, global: { plugins: [i18n] }, attachTo: document.body })
    const button = view.get('[data-testid="composer-attach-button"]')
    expect(button.element.tagName).toBe('BUTTON')
    expect(button.attributes('aria-label')).toBe(en.chat.attach)
    expect(button.find('svg[aria-hidden="true"]').exists()).toBe(true)
    expect(button.text()).toBe('') // no glyph that needs an emoji font
    const input = view.get('[data-testid="composer-attach"]').element as HTMLInputElement
    const click = vi.spyOn(input, 'click')
    ;(button.element as HTMLButtonElement).focus()
    expect(document.activeElement).toBe(button.element)
    await button.trigger('click')
    expect(click).toHaveBeenCalledOnce()
    view.unmount()
  })
})
