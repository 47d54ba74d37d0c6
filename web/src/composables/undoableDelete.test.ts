import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { useToastsStore } from '@/stores/toasts'

import { UNDO_MS, deleteWithUndo, pendingDeleteCount, useHiddenIds } from './undoableDelete'

function request() {
  const ids = useHiddenIds()
  const commit = vi.fn(async () => ids.show('a'))
  deleteWithUndo({ message: 'Deleted', undoLabel: 'Undo', hide: () => ids.hide('a'), restore: () => ids.show('a'), commit })
  return { ids, commit }
}

describe('delete with undo', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    setActivePinia(createPinia())
  })
  afterEach(() => vi.useRealTimers())

  it('hides the item at once and sends the DELETE only after the undo delay', async () => {
    const { ids, commit } = request()
    expect(ids.without([{ id: 'a' }, { id: 'b' }])).toEqual([{ id: 'b' }])
    expect(useToastsStore().list).toMatchObject([{ message: 'Deleted', action: { label: 'Undo' } }])
    await vi.advanceTimersByTimeAsync(UNDO_MS - 1)
    expect(commit).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(commit).toHaveBeenCalledOnce()
    expect(useToastsStore().list).toEqual([])
    expect(pendingDeleteCount()).toBe(0)
  })

  it('Undo shows the item again and never sends the DELETE', async () => {
    const { ids, commit } = request()
    const toasts = useToastsStore()
    toasts.act(toasts.list[0].id)
    expect(ids.without([{ id: 'a' }])).toEqual([{ id: 'a' }])
    await vi.advanceTimersByTimeAsync(UNDO_MS * 2)
    expect(commit).not.toHaveBeenCalled()
  })

  it('sends a pending DELETE at once when the window hides or closes', async () => {
    const { commit } = request()
    window.dispatchEvent(new Event('pagehide'))
    await vi.advanceTimersByTimeAsync(0)
    expect(commit).toHaveBeenCalledOnce()
    await vi.advanceTimersByTimeAsync(UNDO_MS)
    expect(commit).toHaveBeenCalledOnce() // not twice
  })

  it('shows the item again when the DELETE fails', async () => {
    const ids = useHiddenIds()
    deleteWithUndo({ message: 'x', undoLabel: 'Undo', hide: () => ids.hide('a'), restore: () => ids.show('a'), commit: () => Promise.reject(new Error('409')) })
    await vi.advanceTimersByTimeAsync(UNDO_MS)
    expect(ids.without([{ id: 'a' }])).toEqual([{ id: 'a' }])
  })
})
