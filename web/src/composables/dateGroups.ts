/** Conversation list sections: Today, Yesterday, Previous 7 days, Previous 30 days, then months. */
export type DateGroupKey = 'today' | 'yesterday' | 'week' | 'month' | `month:${string}`

export interface DateGroup<T> {
  key: DateGroupKey
  items: T[]
}

const DAY_MS = 86_400_000

function groupKey(when: Date, now: Date): DateGroupKey {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime()
  const time = when.getTime()
  if (time >= today) return 'today'
  if (time >= today - DAY_MS) return 'yesterday'
  if (time >= today - 7 * DAY_MS) return 'week'
  if (time >= today - 30 * DAY_MS) return 'month'
  return `month:${when.getFullYear()}-${String(when.getMonth() + 1).padStart(2, '0')}`
}

/** Items keep their order (most recent first); each lands in the group of its `updated_at`. */
export function groupByDate<T extends { updated_at: string }>(items: T[], now = new Date()): DateGroup<T>[] {
  const groups: DateGroup<T>[] = []
  for (const item of items) {
    const key = groupKey(new Date(item.updated_at), now)
    const last = groups.at(-1)
    if (last?.key === key) last.items.push(item)
    else groups.push({ key, items: [item] })
  }
  return groups
}
