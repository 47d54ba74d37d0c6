/**
 * The one module that knows where the sidecar is, owns the key, HTTP retries and the event
 * socket's reconnects. Views and stores call these functions; they never build URLs.
 */
import { resolveConfig, type ConfigSource, type SageConfig } from './config'
import { EventSocket, type EventSocketOptions } from './events'
import { HttpClient } from './http'
import type { Health } from './types'

export { ApiError } from './http'
export type { SageConfig, StartupError, ConfigSource } from './config'
export type { SageEvent, SocketState } from './events'
export type { Health } from './types'

let source: ConfigSource = resolveConfig()
let current: SageConfig | null = source.kind === 'ready' ? source.config : null

function config(): SageConfig {
  if (!current) throw new Error('The sidecar connection is not configured')
  return current
}

const http = new HttpClient(config)

export function configSource(): ConfigSource {
  return source
}

/** Adopt a new connection (the shell restarted the sidecar). Open sockets should reconnect. */
export function setConfig(next: SageConfig): void {
  current = next
  source = { kind: 'ready', config: next }
}

export function getHealth(signal?: AbortSignal): Promise<Health> {
  return http.request<Health>('/api/health', { signal })
}

export function openEventSocket(options: Omit<EventSocketOptions, 'path'>): EventSocket {
  return new EventSocket(config, { ...options, path: '/ws/events' })
}
