/** The Skills API's shapes, named for the UI (generated in schema.d.ts from the sidecar). */
import type { components } from './schema'

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
