import { describe, expect, it } from 'vitest'

import { MINILM, MULTILINGUAL, defaultOfflineEmbedder, embedderLabel } from './embedders'

const t = (key: string, params?: Record<string, unknown>) => `${key}${params ? JSON.stringify(params) : ''}`

describe('embedders', () => {
  it('names each offline model and a provider model by its name (which may hold colons)', () => {
    expect(embedderLabel(MINILM, t)).toBe('knowledge.embedders.minilm')
    expect(embedderLabel(MULTILINGUAL, t)).toBe('knowledge.embedders.multilingual')
    expect(embedderLabel('provider:p1:qwen3-embedding:0.6b', t)).toBe('knowledge.embedders.provider{"model":"qwen3-embedding:0.6b"}')
  })

  it('starts a new base on the multilingual model when the app speaks Chinese', () => {
    expect(defaultOfflineEmbedder('zh')).toBe(MULTILINGUAL)
    expect(defaultOfflineEmbedder('zh-CN')).toBe(MULTILINGUAL)
    expect(defaultOfflineEmbedder('en')).toBe(MINILM)
  })
})
