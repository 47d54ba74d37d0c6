import { describe, expect, it } from 'vitest'

import { resolveConfig } from './config'

const injected = { apiBase: 'http://127.0.0.1:4100', wsBase: 'ws://127.0.0.1:4100', apiKey: 'k'.repeat(64), version: '0.1.0' }

describe('resolveConfig', () => {
  it('prefers a config injected before the page loaded (browser tests)', () => {
    const source = resolveConfig({ __SAGE__: injected }, { VITE_SAGE_API_BASE: 'http://127.0.0.1:9', VITE_SAGE_API_KEY: 'x' })
    expect(source).toEqual({ kind: 'ready', config: injected })
  })

  it('asks the desktop shell when it runs inside the app', () => {
    expect(resolveConfig({ __TAURI_INTERNALS__: {} }, { VITE_SAGE_API_BASE: 'http://127.0.0.1:9', VITE_SAGE_API_KEY: 'x' })).toEqual({
      kind: 'shell',
    })
  })

  it('falls back to Vite env vars in dev and browser tests', () => {
    const source = resolveConfig({}, { VITE_SAGE_API_BASE: 'http://localhost:5000/', VITE_SAGE_API_KEY: 'abc' })
    expect(source).toEqual({
      kind: 'ready',
      config: { apiBase: 'http://localhost:5000', wsBase: 'ws://localhost:5000', apiKey: 'abc', version: '' },
    })
  })

  it('reports a missing config instead of guessing', () => {
    expect(resolveConfig({}, {}).kind).toBe('missing')
  })

  it.each(['https://127.0.0.1:4100', 'http://evil.example:4100', 'http://10.0.0.1:4100', 'not a url'])(
    'refuses to send the key to non-loopback base %s',
    (apiBase) => {
      expect(resolveConfig({ __SAGE__: { ...injected, apiBase } }, {}).kind).toBe('missing')
    },
  )
})
