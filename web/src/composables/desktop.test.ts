import { describe, expect, it } from 'vitest'

import { schedulerPausedOf } from './desktop'

describe('schedulerPausedOf', () => {
  it('reads the paused flag of task.scheduler_changed', () => {
    expect(schedulerPausedOf({ type: 'task.scheduler_changed', paused: true } as { type: string })).toBe(true)
    expect(schedulerPausedOf({ type: 'task.scheduler_changed', paused: false } as { type: string })).toBe(false)
  })

  it('ignores other events and a malformed flag', () => {
    expect(schedulerPausedOf({ type: 'chat.reply_finished', paused: true } as { type: string })).toBeNull()
    expect(schedulerPausedOf({ type: 'task.scheduler_changed', paused: 'yes' } as { type: string })).toBeNull()
  })
})
