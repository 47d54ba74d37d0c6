import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { MAX_TOASTS, TOAST_MS, useToastsStore } from './toasts'

describe('toasts', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    setActivePinia(createPinia())
  })
  afterEach(() => vi.useRealTimers())

  it('shows a toast and hides it after its duration', () => {
    const toasts = useToastsStore()
    toasts.show('Saved', { tone: 'ok' })
    expect(toasts.list).toMatchObject([{ message: 'Saved', tone: 'ok' }])
    vi.advanceTimersByTime(TOAST_MS - 1)
    expect(toasts.list).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(toasts.list).toEqual([])
  })

  it('runs the action once and dismisses the toast', () => {
    const toasts = useToastsStore()
    const run = vi.fn()
    const id = toasts.show('Deleted', { action: { label: 'Undo', run } })
    toasts.act(id)
    toasts.act(id)
    expect(run).toHaveBeenCalledOnce()
    expect(toasts.list).toEqual([])
  })

  it('keeps at most a few, dropping the oldest', () => {
    const toasts = useToastsStore()
    for (let i = 0; i <= MAX_TOASTS; i++) toasts.show(`n${i}`)
    expect(toasts.list.map((t) => t.message)).toEqual(Array.from({ length: MAX_TOASTS }, (_, i) => `n${i + 1}`))
  })
})
