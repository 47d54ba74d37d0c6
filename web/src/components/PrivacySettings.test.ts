import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { SecretsStatus } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({
  secrets: vi.fn(),
  retryKeychain: vi.fn(),
  // The encrypted-database part of the section (DatabaseEncryption.test.ts tests it).
  database: vi.fn(async () => ({ encrypted: false, pending: null, keychain: 'none', last_failure: null })),
}))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, privacy: api }))

import PrivacySettings from './PrivacySettings.vue'

const status = (extra: Partial<SecretsStatus> = {}): SecretsStatus => ({
  secrets_encrypted: true,
  unreadable_secrets: 0,
  keychain: { available: true, backend: 'Secret Service', reason: null },
  ...extra,
})
const noKeychain = status({
  secrets_encrypted: false,
  keychain: { available: false, backend: 'none', reason: 'no Secret Service is running' },
})

async function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  const wrapper = mount(PrivacySettings, { global: { plugins: [i18n] } })
  await flushPromises()
  return wrapper
}

describe('PrivacySettings', () => {
  it('says secrets are encrypted and where the key is', async () => {
    api.secrets.mockReset().mockResolvedValue(status())
    const wrapper = await show()
    expect(wrapper.find('[data-testid="privacy-secrets-encrypted"]').text()).toContain('kept in Secret Service')
    expect(wrapper.find('[data-testid="privacy-secrets-plain"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="privacy-keychain-retry"]').exists()).toBe(false)
  })

  it('says plainly when there is no keychain, with the reason, and checks again on request', async () => {
    api.secrets.mockReset().mockResolvedValue(noKeychain)
    api.retryKeychain.mockReset().mockResolvedValue(status())
    const wrapper = await show()
    expect(wrapper.find('[data-testid="privacy-secrets-plain"]').text()).toContain('stored unencrypted')
    expect(wrapper.find('[data-testid="privacy-keychain-reason"]').text()).toContain('no Secret Service is running')
    await wrapper.find('[data-testid="privacy-keychain-retry"]').trigger('click')
    await flushPromises()
    expect(api.retryKeychain).toHaveBeenCalledOnce()
    expect(wrapper.find('[data-testid="privacy-secrets-encrypted"]').exists()).toBe(true)
  })

  it('counts secrets whose key is gone, in 中文 too', async () => {
    api.secrets.mockReset().mockResolvedValue(status({ unreadable_secrets: 2 }))
    const wrapper = await show('zh')
    expect(wrapper.find('[data-testid="privacy-secrets-unreadable"]').text()).toContain('有 2 个已保存的机密')
    expect(wrapper.find('h2').text()).toBe('隐私')
  })
})
