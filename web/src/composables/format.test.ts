import { describe, expect, it } from 'vitest'

import { formatBytes, sourceLabel } from './format'

describe('formatBytes', () => {
  it('shows KB below a MiB, never rounding a non-empty file to 0', () => {
    expect(formatBytes(0)).toBe('0 KB')
    expect(formatBytes(100)).toBe('1 KB')
    expect(formatBytes(10 * 1024)).toBe('10 KB')
    expect(formatBytes(3 * (1 << 20) + (1 << 19))).toBe('3.5 MB')
  })
})

describe('sourceLabel', () => {
  it('joins the parts a source has', () => {
    const page = (n: number) => `p. ${n}`
    expect(sourceLabel('guide.pdf', 3, 'Install', page)).toBe('guide.pdf · p. 3 · Install')
    expect(sourceLabel('notes.md', null, null, page)).toBe('notes.md')
  })
})
