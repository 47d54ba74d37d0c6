import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ settings: vi.fn(), saveSettings: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, context: api }))

import ContextSettings from './ContextSettings.vue'

const show = (locale = 'en') =>
  mount(ContextSettings, { global: { plugins: [createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })] } })

describe('ContextSettings', () => {
  it('shows the window of unknown models and saves a new one', async () => {
    api.settings.mockReset().mockResolvedValue({ default_context_tokens: 8192 })
    api.saveSettings.mockReset().mockResolvedValue({ default_context_tokens: 32768 })
    const wrapper = show()
    await flushPromises()
    const field = wrapper.find<HTMLInputElement>('[data-testid="context-default-tokens"]')
    expect(field.element.value).toBe('8192')
    await field.setValue('32768')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(api.saveSettings).toHaveBeenCalledWith({ default_context_tokens: 32768 })
    expect(wrapper.find('[data-testid="context-settings-saved"]').text()).toBe('Saved.')
  })

  it('shows a refused value as the sidecar said it, in 中文', async () => {
    const { ApiError } = await import('@/api/http')
    api.settings.mockReset().mockResolvedValue({ default_context_tokens: 8192 })
    api.saveSettings.mockReset().mockRejectedValue(new ApiError(422, 'too small', 'request.invalid', { errors: [] }))
    const wrapper = show('zh')
    await flushPromises()
    expect(wrapper.find('h2').text()).toBe('对话')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid="context-settings-saved"]').exists()).toBe(false)
    expect(wrapper.text()).toContain(zh.errors.request.invalid.split('{')[0].trim())
  })
})
