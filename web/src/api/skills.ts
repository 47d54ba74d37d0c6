/** The Skills API's shapes, named for the UI (generated in schema.d.ts from the sidecar). */
import type { components } from './schema'
import { inTauri } from './shell'

type Schemas = components['schemas']

export type Skill = Schemas['SkillOut']
export type SkillDetail = Schemas['SkillDetailOut']
export type SkillFileText = Schemas['SkillFileText']
export type AgentSkills = Schemas['AgentSkillsOut']

/** A file of a skill to import, with its path inside the skill's folder (`scripts/run.py`). */
export interface SkillUpload {
  file: File
  path: string
}

/** In the desktop app, the native folder dialog (tauri-plugin-dialog): the picked folder's
 * absolute path, which the sidecar reads (`POST /api/skills/import-path`); null if cancelled. */
export async function pickSkillFolder(): Promise<string | null> {
  if (!inTauri()) return null
  const { open } = await import('@tauri-apps/plugin-dialog')
  const picked = await open({ multiple: false, directory: true })
  return typeof picked === 'string' ? picked : null
}
