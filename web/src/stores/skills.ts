/** Skills: the list, the one open (its SKILL.md and files), imports (with "replace?" when a name
 * is taken), edits, deletes, exports, and which skills an agent uses. */
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { ApiError, skills as api, type Skill, type SkillDetail, type SkillFileText, type SkillUpload } from '@/api'

import { useLastError } from './lastError'

/** Files to upload, or a folder on this computer the sidecar reads (the desktop's dialog). */
export type SkillSource = SkillUpload[] | { path: string }

/** A skill's name is taken: the import waits for the user's answer (`replace(true)`). */
export interface NameTaken {
  name: string
  source: SkillSource
}

export const useSkillsStore = defineStore('skills', () => {
  const list = ref<Skill[]>([])
  const loaded = ref(false)
  const open = ref<SkillDetail | null>(null)
  const file = ref<SkillFileText | null>(null)
  const taken = ref<NameTaken | null>(null)
  const { error, attempt } = useLastError()

  async function load(): Promise<void> {
    const found = await attempt(() => api.list())
    if (found) list.value = found
    loaded.value = true
  }

  async function select(id: string): Promise<void> {
    file.value = null
    const detail = await attempt(() => api.get(id))
    if (detail) open.value = detail
  }

  async function showFile(path: string): Promise<void> {
    if (!open.value) return
    const id = open.value.id
    const text = await attempt(() => api.file(id, path))
    if (text) file.value = text
  }

  /** Import; a name already taken is not an error yet: `taken` asks the user to replace it. */
  async function importSkill(source: SkillSource, replace = false): Promise<Skill | undefined> {
    taken.value = null
    error.value = null
    try {
      const skill = await ('path' in source ? api.importPath(source.path, replace) : api.import(source, replace))
      await load()
      await select(skill.id)
      return skill
    } catch (e) {
      if (e instanceof ApiError && e.code === 'skill.exists' && !replace) {
        taken.value = { name: String(e.params.name ?? ''), source }
      } else {
        error.value = e
      }
      return undefined
    }
  }

  async function answerTaken(replace: boolean): Promise<Skill | undefined> {
    const pending = taken.value
    taken.value = null
    return pending && replace ? importSkill(pending.source, true) : undefined
  }

  async function saveSkillMd(text: string): Promise<boolean> {
    if (!open.value) return false
    const id = open.value.id
    const saved = await attempt(() => api.saveSkillMd(id, text))
    if (!saved) return false
    await Promise.all([load(), select(id)])
    return true
  }

  async function remove(id: string): Promise<void> {
    if ((await attempt(() => api.remove(id))) === undefined) return
    list.value = list.value.filter((s) => s.id !== id)
    if (open.value?.id === id) open.value = null
  }

  async function exportZip(id: string): Promise<Blob | undefined> {
    return attempt(() => api.export(id))
  }

  async function restoreBuiltin(): Promise<boolean> {
    const restored = await attempt(() => api.restoreBuiltin())
    if (restored) await load()
    return !!restored
  }

  return { list, loaded, open, file, taken, error, load, select, showFile, importSkill, answerTaken, saveSkillMd, remove, exportZip, restoreBuiltin }
})
