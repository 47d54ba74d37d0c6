import { beforeEach, describe, expect, it, vi } from 'vitest'

import type { SageEventOf } from '@/api'
import { i18n } from '@/i18n'

// The shell bridge and the notification plugin as fakes (as in notifications.test.ts).
const shell = vi.hoisted(() => ({ focused: false, openInMain: vi.fn() }))
const plugin = vi.hoisted(() => ({ sent: vi.fn(), click: null as ((payload: unknown) => void) | null }))

vi.mock('@/api/shell', () => ({
  inTauri: () => true,
  appHasFocus: async () => shell.focused,
  openInMain: shell.openInMain,
}))
vi.mock('@tauri-apps/api/core', () => ({
  invoke: async (_command: string, args: { options: unknown }) => plugin.sent(args.options),
  addPluginListener: async (_name: string, _event: string, handler: (payload: unknown) => void) => {
    plugin.click = handler
    return { unregister: vi.fn() }
  },
}))

import { noticeFor, saveNotifyPrefs, startNotifications } from './notifications'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})
const setLocale = (code: 'en' | 'zh') => ((i18n.global.locale as unknown as { value: string }).value = code)
const taskRun = (extra: Partial<SageEventOf<'task.run_finished'>>): SageEventOf<'task.run_finished'> => ({
  type: 'task.run_finished', seq: 9, time: 0, taskId: 't1', taskName: 'Morning summary', runId: 'r1',
  conversationId: 'c7', messageId: 'm7', status: 'completed', error: null, notify: true, ...extra,
})

beforeEach(() => {
  localStorage.clear()
  vi.clearAllMocks()
  shell.focused = false
  setLocale('en')
})

describe('taskFinished notifications', () => {
  it('a finished run notifies with its task and opens its conversation', () => {
    expect(noticeFor(taskRun({}), t)).toEqual({
      kind: 'taskFinished', title: 'Task finished: Morning summary', body: '', conversationId: 'c7',
    })
    expect(noticeFor(taskRun({ status: 'budget_exceeded', error: 'Stopped: 140 tokens used' }), t)).toMatchObject({
      kind: 'taskFinished', title: 'Task did not finish: Morning summary', body: 'Stopped: 140 tokens used',
    })
    expect(noticeFor(taskRun({ status: 'missed', conversationId: null, messageId: null }), t)).toMatchObject({
      title: 'Task missed: Morning summary', conversationId: null,
    })
    setLocale('zh')
    expect(noticeFor(taskRun({}), t)?.title).toBe('任务已完成：Morning summary')
  })

  it('a task that asks for no notification, and a skipped occurrence, stay quiet', () => {
    expect(noticeFor(taskRun({ notify: false }), t)).toBeNull()
    expect(noticeFor(taskRun({ status: 'skipped' }), t)).toBeNull()
  })

  it('is delivered unless turned off, and a click opens the run', async () => {
    let feed: ((event: SageEventOf<'task.run_finished'>) => void) | null = null
    const stop = await startNotifications((handler) => {
      feed = handler
      return () => {}
    }, t)
    feed!(taskRun({}))
    await vi.waitFor(() => expect(plugin.sent).toHaveBeenCalledTimes(1))
    expect(plugin.sent.mock.calls[0][0]).toMatchObject({ title: 'Task finished: Morning summary', extra: { conversationId: 'c7' } })
    plugin.click!({ notification: { extra: { conversationId: 'c7' } } })
    expect(shell.openInMain).toHaveBeenCalledWith('c7')

    saveNotifyPrefs({ replyFinished: true, approvalWaiting: true, updateReady: true, taskFinished: false })
    feed!(taskRun({ runId: 'r2' }))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(plugin.sent).toHaveBeenCalledTimes(1)
    stop()
  })
})
