import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

const api = vi.hoisted(() => ({ list: vi.fn(), export: vi.fn(), settings: vi.fn(), setSettings: vi.fn() }))

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, audit: api }))

import { dayBounds, useAuditStore } from './audit'

beforeEach(() => {
  setActivePinia(createPinia())
  Object.values(api).forEach((fn) => fn.mockReset())
})

describe('audit store', () => {
  it('passes the filters to the sidecar and keeps what it returns', async () => {
    const store = useAuditStore()
    api.list.mockResolvedValue([{ id: 1, tool: 'write_file' }])
    await store.load({ tool: 'write_file', decision: 'deny' })
    expect(api.list).toHaveBeenCalledWith({ tool: 'write_file', decision: 'deny' })
    expect(store.events).toHaveLength(1)
  })

  it('exports the filtered events as JSON text', async () => {
    api.export.mockResolvedValue({ format: 'sage.audit.v1', exported_at: 'x', events: [] })
    expect(JSON.parse((await useAuditStore().exportJson({ agent_id: 'a1' }))!).format).toBe('sage.audit.v1')
    expect(api.export).toHaveBeenCalledWith({ agent_id: 'a1' })
  })

  it('shows a failure instead of throwing', async () => {
    const store = useAuditStore()
    api.list.mockRejectedValue(new Error('down'))
    await store.load()
    expect(store.error).toBeInstanceOf(Error)
  })

  it('a day range covers the whole last day', () => {
    expect(dayBounds('2026-11-01', '2026-11-30')).toEqual({ since: '2026-11-01T00:00:00Z', until: '2026-12-01T00:00:00.000Z' })
    expect(dayBounds('', '')).toEqual({ since: undefined, until: undefined })
  })

  it('keeps the retention the sidecar confirms', async () => {
    const store = useAuditStore()
    api.setSettings.mockResolvedValue({ retention_days: 30 })
    await store.setRetention(30)
    expect(store.retentionDays).toBe(30)
  })
})
