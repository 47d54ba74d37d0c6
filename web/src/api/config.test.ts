import { describe, expect, it } from 'vitest'

import { resolveConfig } from './config'

const injected = { apiBase: 'http://127.0.0.1:4100', wsBase: 'ws://127.0.0.1:4100', apiKey: 'k'.repeat(64), version: '0.1.0' }

describe('resolveConfig', () => {
  it('prefers the object the shell injected', () => {
    const source = resolveConfig({ __SAGE__: injected }, { VITE_SAGE_API_BASE: 'http://127.0.0.1:9', VITE_SAGE_API_KEY: 'x' })
    expect(source).toEqual({ kind: 'ready', config: injected })
  })

  it('falls back to Vite env vars in dev and browser tests', () => {
    const source = resolveConfig({}, { VITE_SAGE_API_BASE: 'http://localhost:5000/', VITE_SAGE_API_KEY: 'abc' })
    expect(source).toEqual({
      kind: 'ready',
      config: { apiBase: 'http://localhost:5000', wsBase: 'ws://localhost:5000', apiKey: 'abc', version: '' },
    })
  })

  it('passes a startup error through with its log path', () => {
    const startupError = { message: 'exited early', logPath: '/data/logs/sidecar.log' }
    expect(resolveConfig({ __SAGE__: { startupError } }, {})).toEqual({ kind: 'startup-error', error: startupError })
  })

  it('reports a missing config instead of guessing', () => {
    expect(resolveConfig({}, {}).kind).toBe('missing')
  })

  it.each(['https://127.0.0.1:4100', 'http://evil.example:4100', 'http://10.0.0.1:4100', 'not a url'])(
    'refuses to send the key to non-loopback base %s',
    (apiBase) => {
      const source = resolveConfig({ __SAGE__: { ...injected, apiBase } }, {})
      expect(source.kind).toBe('missing')
    },
  )
})
