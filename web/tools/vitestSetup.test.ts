import { describe, expect, it, vi } from 'vitest'

describe('the test setup', () => {
  it('lets vi.waitFor wait longer than its 1 s default', async () => {
    const readyAt = Date.now() + 1_300
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThanOrEqual(readyAt), { interval: 100 })
  })

  it('still honours a limit a test sets', async () => {
    await expect(vi.waitFor(() => expect(false).toBe(true), { timeout: 200 })).rejects.toThrow()
  })
})
