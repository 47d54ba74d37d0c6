import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import { ApiError } from '@/api/http'
import type { KnowledgeSettings as Facts } from '@/api/knowledgeSettings'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ get: vi.fn(), saveDefaults: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, knowledgeSettings: api }))

import KnowledgeSettings from './KnowledgeSettings.vue'

const facts = (extra: Partial<Facts> = {}): Facts => ({
  defaults: { chunk_tokens: 200, chunk_overlap: 40 },
  local_embedder: { id: 'local:all-minilm-l6-v2', dim: 384, present: true, loaded: false, threads: 2, multilingual: false },
  local_embedders: [
    { id: 'local:all-minilm-l6-v2', dim: 384, present: true, loaded: false, threads: 2, multilingual: false },
    { id: 'local:use-multilingual-v3', dim: 512, present: true, loaded: true, threads: 1, multilingual: true },
  ],
  retrieval: { mode: 'hybrid', sources_per_reply: 5 },
  bases: [{ id: 'k1', name: 'Garden', embedder: 'local:all-minilm-l6-v2', file_count: 2, chunk_count: 14, files_bytes: 2048, index_bytes: 10240 }],
  ...extra,
})

function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  return mount(KnowledgeSettings, { global: { plugins: [i18n] } })
}

describe('Settings → Knowledge', () => {
  it('shows what is in use and each base\'s disk use, and saves the defaults for new bases', async () => {
    api.get.mockResolvedValue(facts())
    api.saveDefaults.mockImplementation(async (body) => body)
    const wrapper = show()
    await flushPromises()
    // Every offline embedder a base can use, each with its state.
    expect(wrapper.findAll('[data-testid="ks-embedder"]').map((row) => row.text().replace(/\s+/g, ' '))).toEqual([
      'Built-in offline · English (MiniLM)384 dimensions · Loads on first use · threads: 2',
      'Built-in offline · multilingual, Chinese too (USE v3)512 dimensions · Loaded · threads: 1',
    ])
    expect(wrapper.get('[data-testid="ks-retrieval"]').text()).toBe('Hybrid · 5 passages per reply')
    expect(wrapper.get('[data-testid="ks-base"]').text()).toContain('Garden · Built-in offline · English (MiniLM)')
    expect(wrapper.get('[data-testid="ks-base"]').text()).toContain('2 files · 2 KB')
    expect(wrapper.get('[data-testid="ks-base"]').text()).toContain('14 chunks · 10 KB')
    expect((wrapper.get('[data-testid="ks-chunk-tokens"]').element as HTMLInputElement).value).toBe('200')
    await wrapper.get('[data-testid="ks-chunk-tokens"]').setValue('120')
    await wrapper.get('[data-testid="ks-chunk-overlap"]').setValue('20')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(api.saveDefaults).toHaveBeenCalledWith({ chunk_tokens: 120, chunk_overlap: 20 })
    expect(wrapper.find('[data-testid="ks-saved"]').exists()).toBe(true)
  })

  it('puts a refused value beside its field, in 中文 too', async () => {
    api.get.mockResolvedValue(facts({ bases: [], local_embedders: [{ ...facts().local_embedder, present: false }] }))
    api.saveDefaults.mockRejectedValue(new ApiError(422, 'bad', 'request.invalid', {
      field: 'chunk_tokens', errors: [{ field: 'chunk_tokens', code: 'field.min', params: { limit: 32 } }],
    }))
    const wrapper = show('zh')
    await flushPromises()
    expect(wrapper.get('[data-testid="ks-embedder-state"]').text()).toContain('缺少模型文件')
    expect(wrapper.text()).toContain('还没有知识库。')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="ks-chunk-tokens"]').attributes('aria-invalid')).toBe('true')
    expect(wrapper.get('#ks-chunk-tokens-error').text()).toBe(zh.errors.field.min.replace('{limit}', '32'))
    expect(wrapper.find('[data-testid="ks-saved"]').exists()).toBe(false)
  })
})
