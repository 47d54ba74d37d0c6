/** The audit log (Settings → Audit): every tool execution and approval decision, filtered on the
 * sidecar, exported as JSON, and how long it is kept. */
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { audit as api, type AuditEvent, type AuditFilters } from '@/api'
import { useLastError } from './lastError'

export const DEFAULT_AUDIT_RETENTION_DAYS = 90

/** A date input's day (`2026-11-30`) as the start of that day in UTC; `until` is the next day. */
export function dayBounds(since: string, until: string): Pick<AuditFilters, 'since' | 'until'> {
  const next = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString()
  return {
    since: since ? `${since}T00:00:00Z` : undefined,
    until: until ? next(until) : undefined,
  }
}

export const useAuditStore = defineStore('audit', () => {
  const events = ref<AuditEvent[]>([])
  const retentionDays = ref<number | null>(null)
  const { error, attempt } = useLastError()

  async function load(filters: AuditFilters = {}): Promise<void> {
    const found = await attempt(() => api.list(filters))
    if (found) events.value = found
  }

  /** The filtered events as one JSON document (sage.audit.v1), for saving. */
  async function exportJson(filters: AuditFilters = {}): Promise<string | null> {
    const data = await attempt(() => api.export(filters))
    return data ? JSON.stringify(data, null, 2) : null
  }

  async function loadSettings(): Promise<void> {
    const settings = await attempt(() => api.settings())
    if (settings) retentionDays.value = settings.retention_days
  }

  async function setRetention(days: number): Promise<void> {
    const settings = await attempt(() => api.setSettings({ retention_days: days }))
    if (settings) retentionDays.value = settings.retention_days
  }

  return { events, retentionDays, error, load, exportJson, loadSettings, setRetention }
})
