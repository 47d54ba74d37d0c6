import { describe, expect, it } from 'vitest'

import { capabilitiesOf, limitsDraft } from './agentLimits'

describe('agent limits form', () => {
  it('starts from the defaults: code runs, writes anywhere, fetch asks', () => {
    expect(capabilitiesOf(limitsDraft(undefined))).toEqual({
      run_code: true, write_paths: null, fetch_default: 'ask', fetch_allow: [], fetch_deny: [],
    })
  })

  it('round-trips limits through the text fields, one entry a line', () => {
    const caps = { run_code: false, write_paths: ['notes/**', '*.md'], fetch_default: 'deny' as const, fetch_allow: ['example.com'], fetch_deny: ['*.bad.test'] }
    const draft = limitsDraft(caps)
    expect(draft.write_paths).toBe('notes/**\n*.md')
    expect(capabilitiesOf({ ...draft, fetch_allow: ' example.com \n\n' })).toEqual(caps)
  })

  it('restricting writes with no pattern means nowhere, not anywhere', () => {
    expect(capabilitiesOf({ ...limitsDraft(undefined), restrict_writes: true }).write_paths).toEqual([])
  })
})
