/** The scheduled tasks API's shapes, named for the UI (generated in schema.d.ts from the sidecar). */
import type { components } from './schema'

type Schemas = components['schemas']
type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>

export type Task = Schemas['TaskOut']
export type TaskCreate = WithDefaults<Schemas['TaskCreate'], 'enabled' | 'notify' | 'overlap'>
export type TaskUpdate = Schemas['TaskUpdate']
export type TaskRun = Schemas['TaskRunOut']
export type TaskRunStatus = TaskRun['status']
export type Schedule = Schemas['TaskCreate']['schedule']
export type SchedulePreview = Schemas['SchedulePreviewOut']
export type SchedulerState = Schemas['SchedulerState']
export type TaskSettings = Schemas['TaskSettings']
