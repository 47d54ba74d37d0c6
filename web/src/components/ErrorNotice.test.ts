import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import { ApiError } from '@/api/http'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import ErrorNotice from './ErrorNotice.vue'

const i18n = createI18n({ legacy: false, locale: 'zh', fallbackLocale: 'en', messages: { en, zh } })
const show = (error: unknown) => mount(ErrorNotice, { props: { error }, attrs: { 'data-testid': 'x-error' }, global: { plugins: [i18n] } })

describe('ErrorNotice', () => {
  it('shows nothing without an error', () => {
    expect(show(null).find('p').exists()).toBe(false)
  })

  it('shows any error as one alert, translated when its code is known, keeping the test id', () => {
    const notice = show(new ApiError(404, "agent 'a1' not found", 'not_found', { what: 'agent', id: 'a1' })).find('p')
    expect(notice.attributes()).toMatchObject({ role: 'alert', 'data-testid': 'x-error' })
    expect(notice.text()).toBe('找不到助手“a1”。')
    expect(show(new ApiError(422, 'base_url: bad')).text()).toBe('base_url: bad')
  })
})
