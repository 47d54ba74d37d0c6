import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import type { UpdateStatus } from '@/api/updates'

// The shell bridge, replaced by fakes the tests drive.
const shell = vi.hoisted(() => ({
  status: { state: 'idle' } as UpdateStatus,
  install: vi.fn(),
  emit: undefined as ((status: UpdateStatus) => void) | undefined,
  /** Runs after the status is read and before the answer arrives (an event in between). */
  inFlight: undefined as (() => void) | undefined,
}))
vi.mock('@/api/updates', async (original) => ({
  ...(await original<typeof import('@/api/updates')>()),
  getUpdateStatus: async () => {
    const read = shell.status
    shell.inFlight?.()
    return read
  },
  checkForUpdates: async () => shell.status,
  installUpdate: shell.install,
  restartApp: vi.fn(),
  onUpdateStatus: async (handler: (status: UpdateStatus) => void) => void (shell.emit = handler),
}))

import { progressPercent } from '@/api/updates'
import { useUpdatesStore } from './updates'

const available: UpdateStatus = { state: 'available', current: '0.1.0', version: '0.2.0', notes: null }

describe('updates store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    shell.status = { state: 'idle' }
    shell.inFlight = undefined
    shell.install.mockReset()
  })

  it('picks up a launch check that finished before the window listened', async () => {
    shell.status = available
    const store = useUpdatesStore()
    await store.start()
    expect(store.status).toEqual(available)
  })

  it('keeps an event that arrived while the first status was on its way (not the older answer)', async () => {
    shell.status = { state: 'checking' }
    shell.inFlight = () => shell.emit?.({ state: 'up-to-date', current: '0.1.0' })
    const store = useUpdatesStore()
    await store.start()
    expect(store.status).toEqual({ state: 'up-to-date', current: '0.1.0' })
  })

  it('follows status events from the shell', async () => {
    const store = useUpdatesStore()
    await store.start()
    shell.emit?.({ state: 'downloading', version: '0.2.0', downloaded: 50, total: 200 })
    expect(progressPercent(store.status)).toBe(25)
  })

  it('shows the shell message when an install is refused', async () => {
    shell.install.mockRejectedValue("The update's signature is not valid, so it was not installed.")
    const store = useUpdatesStore()
    await store.start()
    await store.install()
    expect(store.status).toEqual({ state: 'failed', message: "The update's signature is not valid, so it was not installed." })
  })

  it('remembers a dismissed version only for that version', async () => {
    shell.status = available
    const store = useUpdatesStore()
    await store.start()
    store.dismiss()
    expect(store.dismissed).toBe('0.2.0')
  })
})

describe('progressPercent', () => {
  it('is unknown without a size and capped at 100', () => {
    expect(progressPercent({ state: 'downloading', version: '1', downloaded: 10, total: null })).toBeNull()
    expect(progressPercent({ state: 'downloading', version: '1', downloaded: 300, total: 200 })).toBe(100)
    expect(progressPercent(available)).toBeNull()
  })
})
