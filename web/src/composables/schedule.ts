/**
 * The Tasks screen's schedule builder: a form (once at a local date-time, every N minutes or
 * hours, or a cron expression) to and from the sidecar's schedule, in the browser's time zone,
 * and fire times shown in that zone. The sidecar computes the times (POST /api/tasks/preview):
 * the UI never evaluates cron itself.
 */
import type { Schedule } from '@/api'

export type ScheduleKind = Schedule['kind']

export interface ScheduleForm {
  kind: ScheduleKind
  at: string // an <input type="datetime-local"> value: 2026-12-01T08:00
  every: number
  unit: 'minutes' | 'hours'
  expression: string
}

const pad = (n: number) => String(n).padStart(2, '0')

/** A Date as a datetime-local value, in the browser's zone. */
export function localInputValue(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/** The next full hour, every hour, weekdays at 8:00: a reasonable start for each kind. */
export function defaultScheduleForm(now: Date = new Date()): ScheduleForm {
  const next = new Date(now)
  next.setMinutes(0, 0, 0)
  next.setHours(next.getHours() + 1)
  return { kind: 'interval', at: localInputValue(next), every: 1, unit: 'hours', expression: '0 8 * * 1-5' }
}

export function scheduleOf(form: ScheduleForm): Schedule {
  if (form.kind === 'once') return { kind: 'once', at: form.at }
  if (form.kind === 'cron') return { kind: 'cron', expression: form.expression.trim() }
  return { kind: 'interval', every: Math.max(1, Math.floor(Number(form.every) || 1)), unit: form.unit }
}

export function formOf(schedule: Schedule, now: Date = new Date()): ScheduleForm {
  const form = defaultScheduleForm(now)
  if (schedule.kind === 'once') return { ...form, kind: 'once', at: schedule.at.slice(0, 16) }
  if (schedule.kind === 'cron') return { ...form, kind: 'cron', expression: schedule.expression }
  return { ...form, kind: 'interval', every: schedule.every, unit: schedule.unit }
}

/** The browser's IANA zone (stored with each task); UTC where the platform does not say. */
export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

/** A UTC instant from the sidecar, as the task's zone shows it. */
export function formatInZone(iso: string, zone: string, locale: string): string {
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short', year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  }
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: zone }).format(new Date(iso))
  } catch {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' }).format(new Date(iso))
  }
}

/** A run's duration as people read it: 850 ms, 12.4 s, 3 min 5 s. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}
