/**
 * Connection to the sidecar: health over authenticated HTTP, live events over the socket. In the
 * desktop app the window opens while the sidecar starts: the phase is `connecting` (the badge
 * spins) until the shell hands over the connection.
 */
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'

import {
  configSource,
  getHealth,
  openEventSocket,
  setConfig,
  type Health,
  type SageConfig,
  type SageEvent,
  type SocketState,
  type StartupError,
} from '@/api'
import { getConnection, inTauri, onSidecarChanged, onSidecarFailed, restartSidecar, startFresh, startupErrorOf } from '@/api/shell'

import { useChatStore } from './chat'

export type Phase = 'connecting' | 'connected' | 'error' | 'startup-error'
export const MAX_EVENTS = 20

export const useConnectionStore = defineStore('connection', () => {
  const phase = ref<Phase>('connecting')
  const health = ref<Health | null>(null)
  const error = ref<string | null>(null)
  const startupError = ref<StartupError | null>(null)
  const socketState = ref<SocketState>('idle')
  const events = ref<SageEvent[]>([])
  const socket = shallowRef<ReturnType<typeof openEventSocket> | null>(null)

  async function checkHealth(): Promise<void> {
    if (phase.value !== 'connected') phase.value = 'connecting'
    try {
      health.value = await getHealth()
      error.value = null
      phase.value = 'connected'
      // bench/startup reads this (with the paint timing of the boot spinner) after the fact, so
      // its figure is when the UI connected, not when a WebDriver poll happened to notice.
      performance.mark('sage:connected')
    } catch (e) {
      error.value = (e as Error).message
      phase.value = 'error'
    }
  }

  function onSocketState(state: SocketState): void {
    socketState.value = state
    if (state === 'open') void checkHealth() // (re)connected: refresh version and status
  }

  const listeners = new Set<(event: SageEvent) => void>()

  function pushEvent(event: SageEvent): void {
    events.value = [event, ...events.value].slice(0, MAX_EVENTS)
    for (const listener of listeners) listener(event)
  }

  /** Hear every event as it arrives (desktop notifications); returns the unsubscribe function. */
  function subscribe(listener: (event: SageEvent) => void): () => void {
    listeners.add(listener)
    return () => void listeners.delete(listener)
  }

  /** Bumped by every config adopted from the shell, so an older answer cannot replace it. */
  let adopted = 0
  let adoptedKey: string | null = null

  async function start(): Promise<void> {
    const source = configSource()
    if (source.kind === 'missing') {
      error.value = source.reason
      phase.value = 'error'
      return
    }
    if (!socket.value) {
      socket.value = openEventSocket({ onEvent: pushEvent, onState: onSocketState })
      void onSidecarChanged(adopt)
      void onSidecarFailed(failed)
    }
    if (source.kind === 'shell') {
      // Waits while the sidecar starts; an event may bring a newer connection meanwhile.
      const before = adopted
      try {
        const config = await getConnection()
        if (adopted !== before) return
        setConfig(config)
      } catch (e) {
        if (adopted !== before) return
        const startup = startupErrorOf(e)
        if (startup) return failed(startup)
        error.value = (e as Error).message
        phase.value = 'error'
        return
      }
    }
    socket.value.start()
    await checkHealth()
  }

  /** The shell (re)started the sidecar (new port and key): connect without reloading the page. */
  async function adopt(config: SageConfig): Promise<void> {
    // A restart the UI asked for arrives twice: as the command's answer and as the event.
    if (config.apiKey === adoptedKey && phase.value === 'connected') return
    adopted += 1
    adoptedKey = config.apiKey
    setConfig(config)
    startupError.value = null
    if (!socket.value) return start()
    if (phase.value !== 'connected') phase.value = 'connecting'
    socket.value.reconnectNow()
    useChatStore().reconnect()
    await checkHealth()
  }

  /** A start failed, or the shell's supervisor gave up on a crashing sidecar. */
  function failed(error: StartupError): void {
    socket.value?.stop()
    startupError.value = error
    phase.value = 'startup-error'
  }

  /** Start a sidecar again after a startup error (`how` may set the old database aside first). */
  async function restartAfterStartupError(how: () => Promise<SageConfig>): Promise<void> {
    phase.value = 'connecting'
    try {
      await adopt(await how())
    } catch (e) {
      startupError.value = startupErrorOf(e) ?? { ...(startupError.value as StartupError), message: (e as Error).message }
      phase.value = 'startup-error'
    }
  }

  async function retry(): Promise<void> {
    if (phase.value === 'startup-error' && inTauri()) return restartAfterStartupError(restartSidecar)
    if (configSource().kind === 'shell') return start() // the shell never answered: ask again
    socket.value?.reconnectNow()
    await checkHealth()
  }

  /** The encrypted database cannot be opened: keep it aside and start on a new one (desktop only). */
  const startAfresh = () => restartAfterStartupError(startFresh)

  return { phase, health, error, startupError, socketState, events, start, retry, startAfresh, adopt, checkHealth, subscribe }
})
