import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import { ApiError } from '@/api/http'
import { fieldErrors } from '@/composables/fieldErrors'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ list: vi.fn(), create: vi.fn() }))
const mcpApi = vi.hoisted(() => ({ list: vi.fn(), create: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, providers: api, mcpServers: mcpApi }))

import CodedError from './CodedError.vue'
import McpSettings from './McpSettings.vue'
import ProviderSettings from './ProviderSettings.vue'
import { pick } from './ui/testing'

const i18n = (locale: string) => createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })

// The 422 the sidecar answers for `base_url: "localhost:11434"` (api/errors.py).
const badUrl = () =>
  new ApiError(422, "base_url: String should match pattern '^https?://[^\\s]+$'", 'request.invalid', {
    field: 'base_url',
    reason: "String should match pattern '^https?://[^\\s]+$'",
    errors: [{
      loc: ['body', 'base_url'], msg: "String should match pattern '^https?://[^\\s]+$'",
      type: 'string_pattern_mismatch', field: 'base_url', code: 'field.url', params: {},
    }],
  })

describe('field errors from a 422', () => {
  const t = (locale: string) => {
    const { t: tr, te } = i18n(locale).global
    return {
      t: (key: string, params?: Record<string, unknown>) => tr(key, params ?? {}),
      te: (key: string, lang?: string) => te(key, lang as 'en' | 'zh' | undefined),
    }
  }

  it('gives each field one sentence in the reader’s language, from the code and its parameters', () => {
    expect(fieldErrors(badUrl(), t('en'))).toEqual({ base_url: 'Enter a URL that starts with http:// or https://' })
    expect(fieldErrors(badUrl(), t('zh'))).toEqual({ base_url: '请输入以 http:// 或 https:// 开头的网址' })
    const long = new ApiError(422, 'x', 'request.invalid', {
      errors: [{ field: 'name', code: 'field.too_long', params: { max: 200 }, msg: 'too long' },
        { field: 'name', code: 'field.required', params: {}, msg: 'second' },
        { field: 'other', code: 'field.brand_new', params: {}, msg: 'Value error, as pydantic said' }],
    })
    expect(fieldErrors(long, t('en'))).toEqual({ name: 'Use at most 200 characters.', other: 'Value error, as pydantic said' })
    expect(fieldErrors(new ApiError(409, 'taken', 'conflict'), t('en'))).toEqual({})
  })
})

describe('Settings → Providers form', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    api.list.mockResolvedValue([])
  })

  it('shows a URL problem beside the URL field, not the pattern', async () => {
    api.create.mockRejectedValue(badUrl())
    const view = mount(ProviderSettings, { global: { plugins: [i18n('en')] } })
    await flushPromises()
    await view.get('[data-testid="provider-name"]').setValue('Local')
    await view.get('[data-testid="provider-url"]').setValue('localhost:11434')
    await view.get('[data-testid="provider-form"]').trigger('submit')
    await flushPromises()
    const message = view.get('#provider-url-error')
    expect(message.text()).toBe('Enter a URL that starts with http:// or https://')
    const input = view.get('[data-testid="provider-url"]')
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(input.attributes('aria-describedby')).toBe('provider-url-error')
    expect(view.get('[data-testid="provider-error"]').text()).toBe('Check the highlighted fields.')
    expect(view.text()).not.toContain('pattern')
  })
})

describe('Settings → MCP form', () => {
  it('shows a URL problem beside the URL field', async () => {
    setActivePinia(createPinia())
    mcpApi.list.mockResolvedValue([])
    mcpApi.create.mockRejectedValue(new ApiError(422, 'url: pattern', 'request.invalid', {
      errors: [{ loc: ['body', 'url'], field: 'url', code: 'field.url', params: {}, msg: 'String should match pattern' }],
    }))
    const view = mount(McpSettings, { global: { plugins: [i18n('zh')] } })
    await flushPromises()
    await view.get('[data-testid="mcp-name"]').setValue('remote')
    await pick(view, 'mcp-transport', 'http')
    await view.get('[data-testid="mcp-url"]').setValue('example.com/mcp')
    await view.get('[data-testid="mcp-form"]').trigger('submit')
    await flushPromises()
    expect(view.get('#mcp-url-error').text()).toBe('请输入以 http:// 或 https:// 开头的网址')
    expect(view.get('[data-testid="mcp-url"]').attributes('aria-invalid')).toBe('true')
    expect(view.get('[data-testid="mcp-form-error"]').text()).toBe('请检查标出的字段。')
  })
})

describe('CodedError', () => {
  it('says an MCP start failure in words, the raw detail behind Details', () => {
    const view = mount(CodedError, {
      props: {
        code: 'mcp.start.command_not_found', params: { name: 'files', command: '/x/y' },
        detail: "MCP server 'files' failed to start: McpError: Connection closed",
      },
      global: { plugins: [i18n('zh')] },
    })
    expect(view.get('[data-testid="coded-error-text"]').text()).toBe('找不到命令 /x/y。')
    const details = view.get('[data-testid="coded-error-details"]')
    expect(details.get('summary').text()).toBe('详细信息')
    expect(details.get('pre').text()).toContain('Connection closed')
  })

  it('shows the raw text alone when there is no code', () => {
    const view = mount(CodedError, { props: { detail: 'MCP server x failed' }, global: { plugins: [i18n('en')] } })
    expect(view.get('[data-testid="coded-error-text"]').text()).toBe('MCP server x failed')
    expect(view.find('details').exists()).toBe(false)
  })
})
