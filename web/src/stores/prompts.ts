/** The prompt library: saved prompts with `{{variables}}`, shared by its screen and the `/` picker. */
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { prompts as api, type Prompt, type PromptCreate, type PromptExport, type PromptImportResult, type PromptUpdate } from '@/api'

import { useLastError } from './lastError'

export const usePromptsStore = defineStore('prompts', () => {
  const list = ref<Prompt[]>([])
  const loaded = ref(false)
  const { error, attempt } = useLastError()

  async function load(): Promise<void> {
    const prompts = await attempt(() => api.list())
    if (prompts) {
      list.value = prompts
      loaded.value = true
    }
  }

  /** The picker loads the library the first time it opens; the screen reloads on every visit. */
  async function ensureLoaded(): Promise<void> {
    if (!loaded.value) await load()
  }

  async function create(body: PromptCreate): Promise<Prompt | undefined> {
    const created = await attempt(() => api.create(body))
    if (created) await load() // the server's order (by title)
    return created
  }

  async function update(id: string, body: PromptUpdate): Promise<Prompt | undefined> {
    const updated = await attempt(() => api.update(id, body))
    if (updated) await load()
    return updated
  }

  async function remove(id: string): Promise<void> {
    if ((await attempt(() => api.remove(id))) === null) list.value = list.value.filter((p) => p.id !== id)
  }

  async function exportAll(): Promise<PromptExport | undefined> {
    return attempt(() => api.exportAll())
  }

  async function importAll(body: PromptExport): Promise<PromptImportResult | undefined> {
    const result = await attempt(() => api.importAll(body))
    if (result) await load()
    return result
  }

  return { list, loaded, error, load, ensureLoaded, create, update, remove, exportAll, importAll }
})
