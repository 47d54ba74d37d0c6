import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { NetworkSettingsOut } from '@/api'
import { ApiError } from '@/api/http'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ get: vi.fn(), save: vi.fn(), check: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, network: api }))

import NetworkSettings from './NetworkSettings.vue'

const settings = (extra: Partial<NetworkSettingsOut> = {}): NetworkSettingsOut => ({
  mode: 'system', proxy_url: null, bypass: ['localhost', '127.0.0.1', '::1'], extra_ca_pem: '', extra_ca_path: null,
  certificates: [], system_proxy: 'http://corp:3128', ...extra,
})

function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  return mount(NetworkSettings, { global: { plugins: [i18n] } })
}

describe('Settings → Network', () => {
  it('shows the system proxy, saves a custom one and lists the added CA', async () => {
    api.get.mockResolvedValue(settings())
    api.save.mockResolvedValue(settings({
      mode: 'custom', proxy_url: 'socks5://ann:***@127.0.0.1:1080', bypass: ['localhost'],
      certificates: [{ subject: 'CN=Corp CA', not_after: '2030-01-01', source: 'pasted' }],
    }))
    const wrapper = show()
    // Until the saved settings are in, the form is busy (the a11y audit waits for that) and disabled.
    expect(wrapper.find('form').attributes('aria-busy')).toBe('true')
    await flushPromises()
    expect(wrapper.find('form').attributes('aria-busy')).toBe('false')
    expect(wrapper.find('[data-testid="network-system-proxy"]').text()).toContain('In use: http://corp:3128')
    await wrapper.find('[data-testid="network-mode-custom"]').setValue()
    await wrapper.find('[data-testid="network-proxy-url"]').setValue(' socks5://ann:pw@127.0.0.1:1080 ')
    await wrapper.find('[data-testid="network-bypass"]').setValue('localhost\n\n')
    await wrapper.find('[data-testid="network-ca-pem"]').setValue('-----BEGIN CERTIFICATE-----…')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(api.save).toHaveBeenCalledWith({
      mode: 'custom', proxy_url: 'socks5://ann:pw@127.0.0.1:1080', bypass: ['localhost'],
      extra_ca_pem: '-----BEGIN CERTIFICATE-----…', extra_ca_path: null,
    })
    expect((wrapper.find('[data-testid="network-proxy-url"]').element as HTMLInputElement).value).toBe('socks5://ann:***@127.0.0.1:1080')
    expect(wrapper.find('[data-testid="network-certificates"]').text()).toBe('CN=Corp CA · valid until 2030-01-01')
    expect(wrapper.find('[data-testid="network-saved"]').exists()).toBe(true)
  })

  it('says when the proxy is at fault, in 中文 too', async () => {
    api.get.mockResolvedValue(settings({ system_proxy: null }))
    api.check.mockRejectedValue(new ApiError(502, 'the proxy cannot be reached', 'network.proxy_unreachable', { proxy: 'http://127.0.0.1:9' }))
    const wrapper = show('zh')
    await flushPromises()
    expect(wrapper.find('[data-testid="network-system-proxy"]').text()).toContain('未设置')
    await wrapper.findAll('form')[1]!.trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('无法连接代理 http://127.0.0.1:9')
  })
})
