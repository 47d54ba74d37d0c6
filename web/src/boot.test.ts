import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { afterFirstPaint, showBootFailure } from './boot'

describe('afterFirstPaint', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  function frames() {
    const callbacks: FrameRequestCallback[] = []
    return {
      callbacks,
      requestAnimationFrame: (cb: FrameRequestCallback) => callbacks.push(cb),
      setTimeout: (fn: () => void, ms?: number) => setTimeout(fn, ms),
      clearTimeout: (id?: number) => clearTimeout(id),
    }
  }

  it('resolves in the task after the first frame, not before it', async () => {
    const f = frames()
    let done = false
    const waiting = afterFirstPaint(100, f as never).then(() => (done = true))
    await vi.advanceTimersByTimeAsync(50)
    expect(done).toBe(false) // no frame yet, timeout not reached
    f.callbacks[0](0) // the frame is about to be painted
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(0) // the task after the paint
    await waiting
    expect(done).toBe(true)
  })

  it('resolves after the timeout when no frame ever comes (a window that starts hidden)', async () => {
    const f = frames()
    let done = false
    void afterFirstPaint(100, f as never).then(() => (done = true))
    await vi.advanceTimersByTimeAsync(99)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(done).toBe(true)
  })
})

describe('showBootFailure', () => {
  it('replaces the spinner with a readable alert', () => {
    const root = document.createElement('div')
    root.innerHTML = '<div class="boot" data-testid="boot-spinner"></div>'
    vi.spyOn(console, 'error').mockImplementation(() => {})
    showBootFailure(new TypeError('Importing a module script failed.'), root)
    expect(root.querySelector('[data-testid="boot-spinner"]')).toBeNull()
    expect(root.querySelector('[role="alert"]')?.textContent).toContain('Importing a module script failed.')
  })
})
