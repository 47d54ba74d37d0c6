import { describe, expect, it } from 'vitest'

import { countSet, paramsDraft, paramsOf } from './modelParams'

describe('model parameters in a form', () => {
  it('round-trips what is set and leaves the rest null', () => {
    const draft = paramsDraft({ temperature: 0.7, top_p: null, max_tokens: 256, stop: ['END', '##'], seed: 0, reasoning_effort: 'low' })
    expect(draft).toEqual({ temperature: '0.7', top_p: '', max_tokens: '256', stop: 'END\n##', seed: '0', reasoning_effort: 'low' })
    expect(paramsOf(draft)).toEqual({ temperature: 0.7, top_p: null, max_tokens: 256, stop: ['END', '##'], seed: 0, reasoning_effort: 'low' })
  })

  it('reads an empty form as no parameters at all', () => {
    expect(paramsOf(paramsDraft(null))).toEqual({
      temperature: null, top_p: null, max_tokens: null, stop: null, seed: null, reasoning_effort: null,
    })
    expect(countSet({ temperature: null, stop: [], seed: 0 })).toBe(1)
  })
})
