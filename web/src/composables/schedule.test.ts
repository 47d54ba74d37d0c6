import { describe, expect, it } from 'vitest'

import { defaultScheduleForm, formatDuration, formatInZone, formOf, localInputValue, scheduleOf } from './schedule'

describe('schedule builder', () => {
  const now = new Date(2026, 5, 1, 9, 41) // local time

  it('starts at the next full hour, every hour, weekdays at 8 for cron', () => {
    expect(defaultScheduleForm(now)).toEqual({
      kind: 'interval', at: '2026-06-01T10:00', every: 1, unit: 'hours', expression: '0 8 * * 1-5',
    })
    expect(localInputValue(now)).toBe('2026-06-01T09:41')
  })

  it('turns each kind into the sidecar schedule and back', () => {
    const form = defaultScheduleForm(now)
    expect(scheduleOf({ ...form, kind: 'once', at: '2026-12-01T08:00' })).toEqual({ kind: 'once', at: '2026-12-01T08:00' })
    expect(scheduleOf({ ...form, kind: 'interval', every: 15, unit: 'minutes' })).toEqual({ kind: 'interval', every: 15, unit: 'minutes' })
    expect(scheduleOf({ ...form, kind: 'interval', every: 0 })).toEqual({ kind: 'interval', every: 1, unit: 'hours' })
    expect(scheduleOf({ ...form, kind: 'cron', expression: ' 30 7 * * * ' })).toEqual({ kind: 'cron', expression: '30 7 * * *' })
    expect(formOf({ kind: 'cron', expression: '30 7 * * *' }, now)).toMatchObject({ kind: 'cron', expression: '30 7 * * *' })
    expect(formOf({ kind: 'once', at: '2026-12-01T08:00:00' }, now)).toMatchObject({ kind: 'once', at: '2026-12-01T08:00' })
    expect(formOf({ kind: 'interval', every: 2, unit: 'hours' }, now)).toMatchObject({ kind: 'interval', every: 2, unit: 'hours' })
  })

  it('shows a UTC instant in the task zone, DST included', () => {
    expect(formatInZone('2026-03-29T01:30:00Z', 'Europe/Berlin', 'en-GB')).toMatch(/03:30.*(CEST|GMT\+2)/)
    expect(formatInZone('2026-03-28T01:30:00Z', 'Europe/Berlin', 'en-GB')).toMatch(/02:30.*(CET|GMT\+1)/)
    expect(formatInZone('2026-06-02T00:30:00Z', 'Asia/Shanghai', 'en-GB')).toMatch(/08:30/)
    expect(formatInZone('2026-06-02T00:30:00Z', 'Not/AZone', 'en-GB')).toMatch(/00:30.*UTC/) // falls back to UTC
  })

  it('says a duration as people read it', () => {
    expect([formatDuration(null), formatDuration(850), formatDuration(12_400), formatDuration(185_000)]).toEqual(['—', '850 ms', '12.4 s', '3 min 5 s'])
  })
})
