import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({
  knowledgeSettings: { get: vi.fn() },
  providers: { list: vi.fn() },
}))
vi.mock('@/api', () => api)

import KnowledgeBaseForm from './KnowledgeBaseForm.vue'
import KnowledgeEmbedder from './KnowledgeEmbedder.vue'

const MINILM = 'local:all-minilm-l6-v2'
const MULTILINGUAL = 'local:use-multilingual-v3'

// The select's behaviour is UiSelect's own test; here a native select stands in for it.
const UiSelect = defineComponent({
  props: { modelValue: { type: String, required: true }, options: { type: Array, required: true } },
  emits: ['update:modelValue'],
  template: `<select :value="modelValue" @change="$emit('update:modelValue', $event.target.value)">
    <option v-for="o in options" :key="o.value" :value="o.value" :disabled="o.disabled">{{ o.label }}</option></select>`,
})

function plugins(locale: string) {
  return [createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } }), createPinia()]
}

const optionLabels = (wrapper: ReturnType<typeof mount>, testid: string) =>
  wrapper.get(`[data-testid="${testid}"]`).findAll('option').map((o) => o.text())

describe('a knowledge base\'s embedder', () => {
  it('shows the one in use, and changing it is an explicit step that warns it re-indexes', async () => {
    const wrapper = mount(KnowledgeEmbedder, { props: { embedder: MINILM }, global: { plugins: plugins('en'), stubs: { UiSelect } } })
    const select = wrapper.get('[data-testid="kb-embedder-select"]')
    expect((select.element as HTMLSelectElement).value).toBe(MINILM)
    expect(optionLabels(wrapper, 'kb-embedder-select')).toEqual([
      'Built-in offline · English (MiniLM)', 'Built-in offline · multilingual, Chinese too (USE v3)',
    ])
    expect(wrapper.get('[data-testid="kb-embedder-apply"]').attributes('disabled')).toBeDefined()
    expect(wrapper.find('[data-testid="kb-embedder-warning"]').exists()).toBe(false)
    await select.setValue(MULTILINGUAL)
    expect(wrapper.get('[data-testid="kb-embedder-warning"]').text()).toBe(en.knowledge.changeEmbedderHint)
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('change')).toEqual([[MULTILINGUAL]])
    await wrapper.setProps({ embedder: MULTILINGUAL }) // the base came back re-indexing with it
    expect(wrapper.get('[data-testid="kb-embedder-apply"]').attributes('disabled')).toBeDefined()
  })

  it('keeps a provider\'s model among the choices, in 中文 too', () => {
    const wrapper = mount(KnowledgeEmbedder, {
      props: { embedder: 'provider:p1:bge-m3:latest' }, global: { plugins: plugins('zh'), stubs: { UiSelect } },
    })
    expect(optionLabels(wrapper, 'kb-embedder-select')).toEqual([
      '服务商 · bge-m3:latest', '内置离线 · 英文（MiniLM）', '内置离线 · 多语言，支持中文（USE v3）',
    ])
  })
})

describe('a new knowledge base', () => {
  async function create(locale: string, choose?: string) {
    api.knowledgeSettings.get.mockResolvedValue({ defaults: { chunk_tokens: 200, chunk_overlap: 40 } })
    api.providers.list.mockResolvedValue([])
    const wrapper = mount(KnowledgeBaseForm, { global: { plugins: plugins(locale), stubs: { UiSelect } } })
    await flushPromises()
    await wrapper.get('[data-testid="kb-name"]').setValue('Docs')
    if (choose) await wrapper.get('[data-testid="kb-embedder"]').setValue(choose)
    const hint = wrapper.get('[data-testid="kb-embedder-hint"]').text()
    await wrapper.get('form').trigger('submit')
    const fields = wrapper.emitted('save')?.[0]?.[0] as { embedder: string }
    return { embedder: fields.embedder, hint }
  }

  it('starts on the English model in English, and the multilingual one can be chosen', async () => {
    expect(await create('en')).toEqual({ embedder: MINILM, hint: en.knowledge.englishHint })
    expect(await create('en', MULTILINGUAL)).toEqual({ embedder: MULTILINGUAL, hint: en.knowledge.multilingualHint })
  })

  it('starts on the multilingual model when the app speaks 中文', async () => {
    expect(await create('zh')).toEqual({ embedder: MULTILINGUAL, hint: zh.knowledge.multilingualHint })
  })
})
