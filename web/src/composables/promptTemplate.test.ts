import { describe, expect, it } from 'vitest'

import { fillTemplate, fuzzyScore, rankPrompts, templateVariables } from './promptTemplate'

describe('prompt templates', () => {
  it('names each variable once, in order, like the sidecar', () => {
    expect(templateVariables('{{a}} {{ b }} {{a}} {{}} {{ x y }} {{语言}} {not} {{\n}}')).toEqual(['a', 'b', 'x y', '语言'])
  })

  it('fills variables and leaves an empty one for the user', () => {
    expect(fillTemplate('Say {{ word }} in {{lang}}, {{word}}!', { word: 'hi', lang: '' })).toBe('Say hi in {{lang}}, hi!')
  })
})

describe('fuzzy search', () => {
  it('needs every character in order', () => {
    expect(fuzzyScore('smz', 'Summarize')).not.toBeNull()
    expect(fuzzyScore('zms', 'Summarize')).toBeNull()
    expect(fuzzyScore('', 'anything')).toBe(0)
  })

  it('ranks a prefix and a title match first, keeps the library order on ties', () => {
    const prompts = [
      { title: 'Improve writing', description: 'Clearer, shorter' },
      { title: 'Translate', description: 'Keep the tone' },
      { title: 'Explain code', description: 'Walk through code' },
      { title: 'Reply to an email', description: 'In a tone' },
    ]
    expect(rankPrompts('tr', prompts).map((p) => p.title)[0]).toBe('Translate')
    expect(rankPrompts('code', prompts).map((p) => p.title)).toEqual(['Explain code'])
    // "tone" is scattered in one title and whole in one description: the title match comes first.
    expect(rankPrompts('tone', prompts).map((p) => p.title)).toEqual(['Reply to an email', 'Translate'])
    expect(rankPrompts('', prompts)).toHaveLength(4)
  })
})
