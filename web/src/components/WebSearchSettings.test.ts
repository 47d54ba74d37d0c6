import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { WebSearchSettings as Settings } from '@/api'
import { ApiError } from '@/api/http'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ get: vi.fn(), save: vi.fn(), test: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, webSearch: api }))

import { pick } from './ui/testing'
import WebSearchSettings from './WebSearchSettings.vue'

const settings = (extra: Partial<Settings> = {}): Settings => ({
  backend: 'none', searxng_url: null, has_api_key: false, api_url: null, max_results: 5, endpoint_host: null, ...extra,
})

function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  return mount(WebSearchSettings, { global: { plugins: [i18n] } })
}

describe('Settings → Web search', () => {
  it('saves Brave with its key, keeps a saved key when the field is empty, and tries a search', async () => {
    api.get.mockResolvedValue(settings())
    api.save.mockResolvedValue(settings({ backend: 'brave', has_api_key: true, endpoint_host: 'api.search.brave.com' }))
    api.test.mockResolvedValue({ results: [{ title: 'Sage', url: 'https://sage.example', snippet: 'A desktop app' }] })
    const wrapper = show()
    await flushPromises()
    await pick(wrapper, 'web-search-backend', 'brave')
    await wrapper.find('[data-testid="web-search-key"]').setValue(' BSA-key ')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(api.save).toHaveBeenLastCalledWith({ backend: 'brave', searxng_url: null, api_url: null, max_results: 5, api_key: 'BSA-key' })
    expect(wrapper.find('[data-testid="web-search-key-saved"]').exists()).toBe(true)
    expect((wrapper.find('[data-testid="web-search-key"]').element as HTMLInputElement).value).toBe('')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(api.save.mock.lastCall?.[0]).not.toHaveProperty('api_key') // kept
    await wrapper.findAll('form')[1]!.trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid="web-search-results"]').text()).toContain('1 results:')
    expect(wrapper.find('[data-testid="web-search-results"]').text()).toContain('https://sage.example')
  })

  it('shows a failed search in the reader’s language', async () => {
    api.get.mockResolvedValue(settings({ backend: 'searxng', searxng_url: 'http://127.0.0.1:8888' }))
    api.test.mockRejectedValue(new ApiError(502, 'x', 'web_search.failed', { reason: 'HTTP 403' }))
    const wrapper = show('zh')
    await flushPromises()
    await wrapper.findAll('form')[1]!.trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('搜索失败：HTTP 403')
  })
})
