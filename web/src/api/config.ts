/**
 * Where the sidecar is and how to authenticate: injected by the shell as `window.__SAGE__`
 * (before any script runs), or taken from Vite env vars in `vite dev` and browser tests.
 */

/** The injected object, mirror of the shell's `SageConfig` (src-tauri/src/sidecar/contract.rs). */
export interface SageConfig {
  apiBase: string
  wsBase: string
  apiKey: string
  version: string
}

/** Injected instead of a config when the shell could not start the sidecar. */
export interface StartupError {
  message: string
  logPath: string
}

export type ConfigSource =
  | { kind: 'ready'; config: SageConfig }
  | { kind: 'startup-error'; error: StartupError }
  | { kind: 'missing'; reason: string }

interface InjectedGlobal {
  __SAGE__?: Partial<SageConfig> & { startupError?: StartupError }
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
  global: InjectedGlobal = window as unknown as InjectedGlobal,
  env: EnvLike = import.meta.env,
): ConfigSource {
  const injected = global.__SAGE__
  if (injected?.startupError) return { kind: 'startup-error', error: injected.startupError }
  if (injected?.apiBase && injected.apiKey) {
    return fromParts(injected.apiBase, injected.apiKey, injected.version ?? '')
  }
  if (env.VITE_SAGE_API_BASE && env.VITE_SAGE_API_KEY) {
    return fromParts(env.VITE_SAGE_API_BASE, env.VITE_SAGE_API_KEY, '')
  }
  return {
    kind: 'missing',
    reason: 'No sidecar connection was provided (window.__SAGE__ or VITE_SAGE_API_BASE/KEY).',
  }
}
