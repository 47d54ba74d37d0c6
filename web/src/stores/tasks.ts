/**
 * Scheduled tasks on screen: the list (next run, last result), each task's history, the schedule
 * preview and the pause switch for all of them, kept live by the sidecar's `task.run_finished`
 * and `task.scheduler_changed` events (docs/tasks.md).
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { tasks as api, type SageEvent, type Schedule, type Task, type TaskCreate, type TaskRun, type TaskUpdate } from '@/api'

import { useConnectionStore } from './connection'
import { useLastError } from './lastError'

export const useTasksStore = defineStore('tasks', () => {
  const list = ref<Task[]>([])
  const loaded = ref(false)
  const paused = ref(false)
  /** A fire time missed by less than this (Sage closed, the machine asleep) runs at start. */
  const graceMinutes = ref<number | null>(null)
  /** Each task's history, once opened. */
  const runs = ref<Record<string, TaskRun[]>>({})
  const preview = ref<string[]>([])
  const previewError = ref<unknown>(null)
  const { error, attempt } = useLastError()
  let unsubscribe: (() => void) | null = null
  let previewAsked = 0

  async function load(): Promise<void> {
    unsubscribe ??= useConnectionStore().subscribe(onEvent)
    const [tasks, scheduler, settings] = await Promise.all([
      attempt(() => api.list()), attempt(() => api.scheduler()), attempt(() => api.settings()),
    ])
    if (tasks) {
      list.value = tasks
      loaded.value = true
    }
    if (scheduler) paused.value = scheduler.paused
    if (settings) graceMinutes.value = settings.grace_minutes
  }

  async function setGrace(minutes: number): Promise<void> {
    const settings = await attempt(() => api.setSettings({ grace_minutes: minutes }))
    if (settings) graceMinutes.value = settings.grace_minutes
  }

  function stop(): void {
    unsubscribe?.()
    unsubscribe = null
  }

  /** Histories asked for (from the moment they are asked: an event may come before the answer),
   * and the latest request per task, so an older answer never replaces a newer one. */
  const asked = new Map<string, number>()

  async function loadRuns(taskId: string): Promise<void> {
    const mine = (asked.get(taskId) ?? 0) + 1
    asked.set(taskId, mine)
    const history = await attempt(() => api.runs(taskId))
    if (history && asked.get(taskId) === mine) runs.value = { ...runs.value, [taskId]: history }
  }

  async function create(body: TaskCreate): Promise<Task | undefined> {
    const created = await attempt(() => api.create(body))
    if (created) await load()
    return created
  }

  async function update(id: string, body: TaskUpdate): Promise<Task | undefined> {
    const updated = await attempt(() => api.update(id, body))
    if (updated) list.value = list.value.map((t) => (t.id === id ? updated : t))
    return updated
  }

  async function remove(id: string): Promise<void> {
    if ((await attempt(() => api.remove(id))) === null) {
      list.value = list.value.filter((t) => t.id !== id)
      const { [id]: _gone, ...rest } = runs.value
      runs.value = rest
      asked.delete(id)
    }
  }

  async function runNow(id: string): Promise<TaskRun | undefined> {
    const run = await attempt(() => api.runNow(id))
    if (run) await Promise.all([load(), loadRuns(id)])
    return run
  }

  async function setPaused(value: boolean): Promise<void> {
    const state = await attempt(() => api.setPaused(value))
    if (state) paused.value = state.paused
    if (state && !state.paused) await load() // every task starts again from now
  }

  /** The next fire times in the zone; a coded error (a bad cron) is kept for the form instead. */
  async function previewSchedule(schedule: Schedule, zone: string): Promise<void> {
    const asked = ++previewAsked
    try {
      const result = await api.preview(schedule, zone)
      if (asked !== previewAsked) return // an older answer arriving late
      preview.value = result.times
      previewError.value = null
    } catch (e) {
      if (asked !== previewAsked) return
      preview.value = []
      previewError.value = e
    }
  }

  function onEvent(event: SageEvent): void {
    if (event.type === 'task.scheduler_changed') {
      paused.value = event.paused
    } else if (event.type === 'task.run_finished') {
      void load()
      if (asked.has(event.taskId)) void loadRuns(event.taskId)
    }
  }

  return { list, loaded, paused, graceMinutes, setGrace, runs, preview, previewError, error, load, stop, loadRuns, create, update, remove, runNow, setPaused, previewSchedule, onEvent }
})
