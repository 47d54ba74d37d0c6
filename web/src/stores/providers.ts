/** Model providers: the list, connection tests, local servers found on this computer, models. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import {
  providers as api,
  type ConnectionVerdict,
  type DetectedServer,
  type Provider,
  type ProviderCreate,
  type ProviderUpdate,
} from '@/api'
import { useLastError } from './lastError'

export const useProvidersStore = defineStore('providers', () => {
  const list = ref<Provider[]>([])
  /** False until the first list arrived, so "no provider yet" is not shown while loading. */
  const loaded = ref(false)
  const { error, attempt } = useLastError()
  const verdicts = ref<Record<string, ConnectionVerdict>>({})
  const detected = ref<DetectedServer[] | null>(null)
  const models = ref<Record<string, string[]>>({})

  const hasProvider = computed(() => list.value.length > 0)

  async function load(): Promise<void> {
    const providers = await attempt(() => api.list())
    if (providers) {
      list.value = providers
      loaded.value = true
    }
  }

  async function create(body: ProviderCreate): Promise<Provider | undefined> {
    const created = await attempt(() => api.create(body))
    if (created) list.value = [...list.value, created]
    return created
  }

  async function update(id: string, body: ProviderUpdate): Promise<Provider | undefined> {
    const updated = await attempt(() => api.update(id, body))
    if (updated) {
      list.value = list.value.map((p) => (p.id === id ? updated : p))
      delete models.value[id]
    }
    return updated
  }

  async function remove(id: string): Promise<void> {
    if ((await attempt(() => api.remove(id))) === null) {
      list.value = list.value.filter((p) => p.id !== id)
      delete verdicts.value[id]
    }
  }

  /** Try the provider's connection; a verdict (not an error) says what is wrong with it. */
  async function test(id: string): Promise<ConnectionVerdict | undefined> {
    const verdict = await attempt(() => api.test(id))
    if (verdict) verdicts.value = { ...verdicts.value, [id]: verdict }
    return verdict
  }

  /** Local model servers (Ollama, LM Studio) answering on their usual ports. */
  async function detect(): Promise<DetectedServer[]> {
    detected.value = (await attempt(() => api.detect())) ?? []
    return detected.value
  }

  /** The models a provider offers; none when it cannot list them (offline, no key). */
  async function modelsOf(id: string): Promise<string[]> {
    if (models.value[id]) return models.value[id]
    const found = await api.models(id).catch(() => [])
    if (found.length) models.value = { ...models.value, [id]: found } // asked again next time if none
    return found
  }

  return { list, loaded, error, verdicts, detected, models, hasProvider, load, create, update, remove, test, detect, modelsOf }
})
