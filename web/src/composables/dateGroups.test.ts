import { describe, expect, it } from 'vitest'

import { groupByDate } from './dateGroups'

const now = new Date(2026, 10, 25, 15, 0) // 25 Nov 2026, 15:00 local time
const at = (days: number, hour = 12) => ({ updated_at: new Date(2026, 10, 25 - days, hour).toISOString(), days })

describe('groupByDate', () => {
  it('sorts recent conversations into today, yesterday, last week and last month', () => {
    const groups = groupByDate([at(0, 9), at(0, 1), at(1, 23), at(3), at(6), at(12)], now)
    expect(groups.map((g) => [g.key, g.items.map((i) => i.days)])).toEqual([
      ['today', [0, 0]],
      ['yesterday', [1]],
      ['week', [3, 6]],
      ['month', [12]],
    ])
  })

  it('names older months by year and month', () => {
    const groups = groupByDate([at(40), at(70), at(400)], now)
    expect(groups.map((g) => g.key)).toEqual(['month:2026-10', 'month:2026-09', 'month:2025-10'])
  })

  it('returns nothing for no conversations', () => {
    expect(groupByDate([], now)).toEqual([])
  })

  it("groups by the reader's own day: the sidecar's UTC timestamps (with microseconds) are instants", () => {
    const zone = process.env.TZ
    process.env.TZ = 'Asia/Shanghai' // UTC+8: 06:30 on the 25th here is 22:30 on the 24th in UTC
    try {
      const morning = new Date(2026, 10, 25, 7, 0)
      const item = { updated_at: '2026-11-24T22:30:00.740312Z' }
      expect(groupByDate([item], morning).map((g) => g.key)).toEqual(['today'])
      expect(groupByDate([{ updated_at: '2026-11-24T22:30:00+00:00' }], morning)[0].key).toBe('today')
      expect(groupByDate([{ updated_at: '2026-11-23T16:01:00Z' }], morning)[0].key).toBe('yesterday')
      expect(groupByDate([{ updated_at: '2026-11-23T15:59:00Z' }], morning)[0].key).toBe('week')
    } finally {
      process.env.TZ = zone
    }
  })
})
