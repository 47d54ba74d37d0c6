/**
 * The embedders a knowledge base can use: the two offline models shipped with the app (sidecar
 * knowledge/local_models.py) or a provider's model (`provider:<id>:<model>`). Changing a base's
 * embedder re-indexes it.
 */
export const MINILM = 'local:all-minilm-l6-v2'
export const MULTILINGUAL = 'local:use-multilingual-v3'
export const OFFLINE_EMBEDDERS = [MINILM, MULTILINGUAL] as const
export type OfflineEmbedder = (typeof OFFLINE_EMBEDDERS)[number]

type Translate = (key: string, params?: Record<string, unknown>) => string

/** A base's embedder in words: which offline model, or the provider's model name. */
export function embedderLabel(id: string, t: Translate): string {
  if (id === MINILM) return t('knowledge.embedders.minilm')
  if (id === MULTILINGUAL) return t('knowledge.embedders.multilingual')
  if (id.startsWith('provider:')) return t('knowledge.embedders.provider', { model: id.split(':').slice(2).join(':') })
  return id
}

/** The offline model a new base starts with: the multilingual one when the app speaks Chinese
 * (the English MiniLM reads Chinese poorly), else the MiniLM, better on English. */
export function defaultOfflineEmbedder(locale: string): OfflineEmbedder {
  return locale.startsWith('zh') ? MULTILINGUAL : MINILM
}
