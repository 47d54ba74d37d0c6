import { describe, expect, it } from 'vitest'

import { ComposerHistory } from './composerHistory'

describe('ComposerHistory', () => {
  it('walks back through sent messages and forward to the unsent draft', () => {
    const history = new ComposerHistory(() => ['first', 'second'])
    expect(history.older('half-written')).toBe('second')
    expect(history.older('second')).toBe('first')
    expect(history.older('first')).toBeNull()
    expect(history.newer()).toBe('second')
    expect(history.newer()).toBe('half-written')
    expect(history.browsing).toBe(false)
    expect(history.newer()).toBeNull()
  })

  it('has nothing to recall in a new conversation', () => {
    expect(new ComposerHistory(() => []).older('')).toBeNull()
  })

  it('starts again from the newest entry after a reset', () => {
    const history = new ComposerHistory(() => ['a', 'b', 'c'])
    history.older('')
    history.older('c')
    history.reset()
    expect(history.older('')).toBe('c')
  })
})
