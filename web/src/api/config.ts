/**
 * Where the sidecar is and how to authenticate. In the desktop app the window opens while the
 * sidecar is still starting, so the shell hands the connection over IPC: the `get_connection`
 * command (it waits while the sidecar starts; asked on every load, so a reload never brings back
 * a stale one) and the `sage://sidecar-changed` event after every start (api/shell.ts). In a
 * plain browser (dev server, browser tests) it is injected as `window.__SAGE__` before any
 * script runs, or taken from Vite env vars.
 */
import type { SageConfig, StartupError } from './shell-types'

export type { SageConfig, StartupError }

export type ConfigSource =
  | { kind: 'ready'; config: SageConfig }
  /** In the desktop app: ask the shell (`getConnection`). */
  | { kind: 'shell' }
  | { kind: 'missing'; reason: string }

interface Globals {
  __SAGE__?: Partial<SageConfig>
  __TAURI_INTERNALS__?: unknown
}

interface EnvLike {
  VITE_SAGE_API_BASE?: string
  VITE_SAGE_API_KEY?: string
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost'])

/** Only loopback HTTP is acceptable: the key must never be sent anywhere else. */
function isLoopbackHttp(base: string): boolean {
  try {
    const url = new URL(base)
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)
  } catch {
    return false
  }
}

function fromParts(apiBase: string, apiKey: string, version: string): ConfigSource {
  if (!isLoopbackHttp(apiBase)) {
    return { kind: 'missing', reason: `refusing non-loopback API base ${apiBase}` }
  }
  const base = apiBase.replace(/\/+$/, '')
  return {
    kind: 'ready',
    config: { apiBase: base, wsBase: base.replace(/^http/, 'ws'), apiKey, version },
  }
}

export function resolveConfig(
  global: Globals = window as unknown as Globals,
  env: EnvLike = import.meta.env,
): ConfigSource {
  const injected = global.__SAGE__
  if (injected?.apiBase && injected.apiKey) {
    return fromParts(injected.apiBase, injected.apiKey, injected.version ?? '')
  }
  if (global.__TAURI_INTERNALS__ !== undefined) return { kind: 'shell' }
  if (env.VITE_SAGE_API_BASE && env.VITE_SAGE_API_KEY) {
    return fromParts(env.VITE_SAGE_API_BASE, env.VITE_SAGE_API_KEY, '')
  }
  return {
    kind: 'missing',
    reason: 'No sidecar connection was provided (window.__SAGE__ or VITE_SAGE_API_BASE/KEY).',
  }
}
