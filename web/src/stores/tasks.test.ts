import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

const api = vi.hoisted(() => ({
  list: vi.fn(), create: vi.fn(), update: vi.fn(), remove: vi.fn(), runNow: vi.fn(), runs: vi.fn(),
  preview: vi.fn(), scheduler: vi.fn(), setPaused: vi.fn(), settings: vi.fn(), setSettings: vi.fn(),
}))
const listeners = vi.hoisted(() => new Set<(event: unknown) => void>())

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, tasks: api }))
vi.mock('./connection', () => ({
  useConnectionStore: () => ({ subscribe: (listener: (event: unknown) => void) => (listeners.add(listener), () => listeners.delete(listener)) }),
}))

import { ApiError } from '@/api/http'

import { useTasksStore } from './tasks'

const task = (id: string, extra = {}) => ({ id, name: id, enabled: true, next_run_at: null, last_run: null, running: false, ...extra })

beforeEach(() => {
  setActivePinia(createPinia())
  listeners.clear()
  Object.values(api).forEach((fn) => fn.mockReset())
  api.list.mockResolvedValue([task('t1')])
  api.scheduler.mockResolvedValue({ paused: false })
  api.runs.mockResolvedValue([])
  api.settings.mockResolvedValue({ grace_minutes: 60 })
})

describe('tasks store', () => {
  it('loads the tasks and the pause switch, and follows the events', async () => {
    const store = useTasksStore()
    await store.load()
    expect(store.list.map((t) => t.id)).toEqual(['t1'])
    expect(store.paused).toBe(false)
    for (const listener of listeners) listener({ type: 'task.scheduler_changed', paused: true })
    expect(store.paused).toBe(true)

    await store.loadRuns('t1')
    api.list.mockResolvedValue([task('t1', { last_run: { id: 'r1', status: 'completed' } })])
    api.runs.mockResolvedValue([{ id: 'r1', status: 'completed' }])
    for (const listener of listeners) listener({ type: 'task.run_finished', taskId: 't1', status: 'completed' })
    await vi.waitFor(() => expect(store.runs.t1).toHaveLength(1))
    expect(store.list[0].last_run?.id).toBe('r1')
    store.stop()
    expect(listeners.size).toBe(0)
  })

  it('runs a task now and shows its history', async () => {
    const store = useTasksStore()
    api.runNow.mockResolvedValue({ id: 'r2', status: 'running' })
    api.runs.mockResolvedValue([{ id: 'r2', status: 'running' }])
    await store.runNow('t1')
    expect(api.runNow).toHaveBeenCalledWith('t1')
    expect(store.runs.t1[0].id).toBe('r2')
  })

  it('pauses and resumes all; resuming reloads the next run times', async () => {
    const store = useTasksStore()
    api.setPaused.mockResolvedValue({ paused: true })
    await store.setPaused(true)
    expect(store.paused).toBe(true)
    expect(api.list).not.toHaveBeenCalled()
    api.setPaused.mockResolvedValue({ paused: false })
    await store.setPaused(false)
    expect(store.paused).toBe(false)
    expect(api.list).toHaveBeenCalledTimes(1)
  })

  it('keeps the preview, or the coded error of a bad schedule, and ignores a late older answer', async () => {
    const store = useTasksStore()
    let answerFirst: (value: unknown) => void = () => {}
    api.preview.mockReturnValueOnce(new Promise((resolve) => (answerFirst = resolve)))
    const first = store.previewSchedule({ kind: 'cron', expression: '0 8 * * *' }, 'Europe/Berlin')
    api.preview.mockRejectedValueOnce(new ApiError(422, 'bad cron', 'task.bad_cron', { expression: 'x' }))
    await store.previewSchedule({ kind: 'cron', expression: 'x' }, 'Europe/Berlin')
    answerFirst({ times: ['2026-06-02T06:00:00Z'] })
    await first
    expect(store.preview).toEqual([])
    expect(store.previewError).toBeInstanceOf(ApiError)
    api.preview.mockResolvedValueOnce({ times: ['2026-06-02T06:00:00Z'] })
    await store.previewSchedule({ kind: 'cron', expression: '0 8 * * *' }, 'Europe/Berlin')
    expect(store.preview).toEqual(['2026-06-02T06:00:00Z'])
    expect(store.previewError).toBeNull()
  })

  it('shows a failure instead of throwing, and removes a deleted task', async () => {
    const store = useTasksStore()
    await store.load()
    api.remove.mockResolvedValue(null)
    await store.remove('t1')
    expect(store.list).toEqual([])
    api.create.mockRejectedValue(new Error('down'))
    expect(await store.create({} as never)).toBeUndefined()
    expect(store.error).toBeInstanceOf(Error)
  })
})

describe('tasks store history', () => {
  it('an event that comes before the history\'s first answer still refreshes it', async () => {
    const store = useTasksStore()
    await store.load()
    let answer: (value: unknown) => void = () => {}
    api.runs.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)))
    const first = store.loadRuns('t1') // asked while the run was still going
    api.runs.mockResolvedValueOnce([{ id: 'r1', status: 'completed' }])
    for (const listener of listeners) listener({ type: 'task.run_finished', taskId: 't1', status: 'completed' })
    await vi.waitFor(() => expect(store.runs.t1?.[0].status).toBe('completed'))
    answer([{ id: 'r1', status: 'running' }]) // the older answer, late
    await first
    expect(store.runs.t1[0].status).toBe('completed')
  })
})

describe('tasks store settings', () => {
  it('loads and sets the grace window', async () => {
    const store = useTasksStore()
    await store.load()
    expect(store.graceMinutes).toBe(60)
    api.setSettings.mockResolvedValue({ grace_minutes: 15 })
    await store.setGrace(15)
    expect(api.setSettings).toHaveBeenCalledWith({ grace_minutes: 15 })
    expect(store.graceMinutes).toBe(15)
  })
})
