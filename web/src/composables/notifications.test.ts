import { beforeEach, describe, expect, it, vi } from 'vitest'

import type { SageEvent, SageEventOf } from '@/api'
import { i18n } from '@/i18n'

// The shell bridge and the plugin, replaced by fakes: focus is what the test says it is, and a
// "sent" notification is a recorded call.
const shell = vi.hoisted(() => ({
  focused: false,
  openInMain: vi.fn(),
}))
const plugin = vi.hoisted(() => ({
  sendNotification: vi.fn(),
  clickHandler: null as ((payload: unknown) => void) | null,
  unregister: vi.fn(),
}))

vi.mock('@/api/shell', () => ({
  inTauri: () => true,
  appHasFocus: async () => shell.focused,
  openInMain: shell.openInMain,
}))
vi.mock('@tauri-apps/api/core', () => ({
  invoke: async (command: string, args: { options: unknown }) => {
    expect(command).toBe('plugin:notification|notify')
    plugin.sendNotification(args.options)
  },
  addPluginListener: async (name: string, event: string, handler: (payload: unknown) => void) => {
    expect([name, event]).toEqual(['notification', 'actionPerformed'])
    plugin.clickHandler = handler
    return { unregister: plugin.unregister }
  },
}))

import {
  clickedConversation,
  deliver,
  noticeFor,
  saveNotifyPrefs,
  savedNotifyPrefs,
  shouldNotify,
  startNotifications,
  updateNotice,
  type NotifyPrefs,
} from './notifications'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})
// The app runs vue-i18n in composition mode, where `locale` is a ref (the declared type is wider).
const setLocale = (code: 'en' | 'zh') => ((i18n.global.locale as unknown as { value: string }).value = code)
const ALL_ON: NotifyPrefs = { replyFinished: true, approvalWaiting: true, updateReady: true, taskFinished: true }
const finished = (extra: Partial<SageEventOf<'chat.reply_finished'>>): SageEventOf<'chat.reply_finished'> => ({
  type: 'chat.reply_finished', seq: 5, time: 0, conversationId: 'c1', messageId: 'm1', title: 'Trip plan', status: 'completed',
  preview: '', error: null, ...extra,
})
const approval = (extra: Partial<SageEventOf<'chat.approval_required'>>): SageEventOf<'chat.approval_required'> => ({
  type: 'chat.approval_required', seq: 6, time: 0, conversationId: 'c2', messageId: 'm2', callId: 'w1', tool: 'write_file',
  arguments: '{}', title: 'Notes', reason: null, reasonParams: {}, ...extra,
})

beforeEach(() => {
  localStorage.clear()
  vi.clearAllMocks()
  shell.focused = false
  setLocale('en')
})

describe('notification settings', () => {
  it('has every kind on until the user turns one off', () => {
    expect(savedNotifyPrefs()).toEqual(ALL_ON)
    saveNotifyPrefs({ ...ALL_ON, approvalWaiting: false })
    expect(savedNotifyPrefs()).toEqual({ ...ALL_ON, approvalWaiting: false })
  })

  it('treats junk in storage as nothing saved', () => {
    localStorage.setItem('sage.notifications', '{oops')
    expect(savedNotifyPrefs()).toEqual(ALL_ON)
    localStorage.setItem('sage.notifications', '"a string"')
    expect(savedNotifyPrefs()).toEqual(ALL_ON)
  })
})

describe('which events become notifications', () => {
  it('a finished reply: the conversation title and the start of the answer', () => {
    const notice = noticeFor(finished({ status: 'completed', preview: 'Day 1:\n  Lisbon.  ' }), t)
    expect(notice).toEqual({ kind: 'replyFinished', title: 'Sage answered: Trip plan', body: 'Day 1: Lisbon.', conversationId: 'c1' })
  })

  it('a failed reply says so, with the reason', () => {
    const notice = noticeFor(finished({ status: 'failed', error: 'The provider refused the key.' }), t)
    expect(notice?.title).toBe('Sage could not answer: Trip plan')
    expect(notice?.body).toBe('The provider refused the key.')
  })

  it('a reply the user stopped is not news', () => {
    expect(noticeFor(finished({ status: 'interrupted' }), t)).toBeNull()
  })

  it('a tool waiting for approval names the tool', () => {
    expect(noticeFor(approval({}), t)).toEqual({ kind: 'approvalWaiting', title: 'write_file is waiting for your approval', body: 'Notes', conversationId: 'c2' })
  })

  it('other events are not notifications', () => {
    expect(noticeFor({ type: 'heartbeat', seq: 1, time: 0, uptimeS: 3 }, t)).toBeNull()
    expect(noticeFor({ type: 'hello', uptimeS: 3 }, t)).toBeNull()
  })

  it('long answers are cut, and a missing title has a stand-in', () => {
    const notice = noticeFor(finished({ title: '', preview: 'x'.repeat(500) }), t)
    expect(notice?.body.length).toBe(180)
    expect(notice?.body.endsWith('…')).toBe(true)
    expect(notice?.title).toBe('Sage answered: New conversation')
  })

  it('follows the UI language', () => {
    setLocale('zh')
    expect(noticeFor(finished({ status: 'completed', preview: '好' }), t)?.title).toBe('Sage 已回复：Trip plan')
  })

  it('an update ready notice has no conversation', () => {
    expect(updateNotice('0.2.0', t)).toMatchObject({ kind: 'updateReady', title: 'Sage 0.2.0 is available', conversationId: null })
  })
})

describe('when to notify', () => {
  const notice = { kind: 'replyFinished' as const, title: 't', body: 'b', conversationId: 'c1' }

  it('only when the user is not looking at Sage, and only for kinds that are on', () => {
    expect(shouldNotify(notice, ALL_ON, false)).toBe(true)
    expect(shouldNotify(notice, ALL_ON, true)).toBe(false)
    expect(shouldNotify(notice, { ...ALL_ON, replyFinished: false }, false)).toBe(false)
    expect(shouldNotify({ ...notice, kind: 'approvalWaiting' }, { ...ALL_ON, replyFinished: false }, false)).toBe(true)
  })

  it('sends through the plugin with the conversation attached', async () => {
    expect(await deliver(notice)).toBe(true)
    expect(plugin.sendNotification).toHaveBeenCalledWith({ title: 't', body: 'b', extra: { conversationId: 'c1' } })
  })

  it('sends nothing while Sage has the focus, or for a kind turned off in Settings', async () => {
    shell.focused = true
    expect(await deliver(notice)).toBe(false)
    shell.focused = false
    saveNotifyPrefs({ ...ALL_ON, replyFinished: false })
    expect(await deliver(notice)).toBe(false)
    expect(plugin.sendNotification).not.toHaveBeenCalled()
  })
})

describe('the running path', () => {
  it('turns sidecar events into notifications and a click into the conversation', async () => {
    let feed: ((event: SageEvent) => void) | null = null
    const unsubscribe = vi.fn()
    const stop = await startNotifications((handler) => {
      feed = handler
      return unsubscribe
    }, t)

    feed!({ type: 'heartbeat', seq: 1, time: 0, uptimeS: 1 })
    feed!(finished({ status: 'completed', preview: 'Here it is.' }))
    await vi.waitFor(() => expect(plugin.sendNotification).toHaveBeenCalledTimes(1))
    expect(plugin.sendNotification.mock.calls[0][0]).toMatchObject({ title: 'Sage answered: Trip plan', body: 'Here it is.' })

    // The plugin reports a click with the notification it sent (Linux: the "default" action).
    plugin.clickHandler!({ actionId: 'tap', notification: { id: 1, title: 'x', extra: { conversationId: 'c1' } } })
    expect(shell.openInMain).toHaveBeenCalledWith('c1')

    stop()
    expect(unsubscribe).toHaveBeenCalled()
    expect(plugin.unregister).toHaveBeenCalled()
  })

  it('reads the clicked conversation from either payload shape', () => {
    expect(clickedConversation({ notification: { extra: { conversationId: 'a' } } })).toBe('a')
    expect(clickedConversation({ extra: { conversationId: 'b' } })).toBe('b')
    expect(clickedConversation({ notification: { extra: { conversationId: null } } })).toBeNull()
    expect(clickedConversation(undefined)).toBeNull()
  })
})
