/**
 * One readable notice for any failure: an HTTP error from the sidecar (`{detail, code?, params?}`),
 * a network failure, a frame's error, or one the UI raises itself. A known `code` is translated
 * (`errors.<code>` in the locale files); an unknown one falls back to the sidecar's `detail`, so a
 * new sidecar code reads in English until it is translated, never as a bare code.
 */
import { useI18n } from 'vue-i18n'

import { ApiError } from '@/api/http'

/** A failure the UI itself reports, by locale key (under `errors.`) and its parameters. */
export class UiError extends Error {
  constructor(
    readonly code: string,
    readonly params: Record<string, unknown> = {},
  ) {
    super(code)
    this.name = 'UiError'
  }
}

/** The translator the notice needs: vue-i18n's `t` and `te`, or a stand-in in tests. */
export interface Translator {
  t: (key: string, params?: Record<string, unknown>) => string
  te: (key: string, locale?: string) => boolean
}

interface Coded {
  code?: unknown
  params?: unknown
  detail?: unknown
  error?: unknown
  message?: unknown
}

/** A translation of `code` if the locale files know it, else null. */
function translated(i18n: Translator, code: unknown, params: unknown): string | null {
  if (typeof code !== 'string' || !code) return null
  const key = `errors.${code}`
  if (!i18n.te(key) && !i18n.te(key, 'en')) return null
  const values = params && typeof params === 'object' ? { ...(params as Record<string, unknown>) } : {}
  for (const [name, value] of Object.entries(values)) if (Array.isArray(value)) values[name] = value.join(', ')
  // "not found" names a thing in English (`what`); say it in the reader's language when known.
  if (typeof values.what === 'string') {
    const thing = `errors.things.${values.what.replace(/ /g, '_')}`
    if (i18n.te(thing) || i18n.te(thing, 'en')) values.what = i18n.t(thing)
  }
  // A coded `reason` (a refused workspace path's) reads from `errors.<area>.reasons.<reason>`.
  if (typeof values.reason === 'string') {
    const reason = `errors.${code.split('.')[0]}.reasons.${values.reason}`
    if (i18n.te(reason) || i18n.te(reason, 'en')) values.reason = i18n.t(reason)
  }
  return i18n.t(key, values)
}

export function errorMessage(error: unknown, i18n: Translator): string {
  if (error === null || error === undefined || error === '') return ''
  if (typeof error === 'string') return error
  if (error instanceof UiError) return translated(i18n, error.code, error.params) ?? error.code
  if (error instanceof ApiError) {
    const known = translated(i18n, error.code, error.params)
    if (known) return known
    if (error.status === 0) return i18n.t('errors.unreachable')
    return error.detail || i18n.t('errors.http', { status: error.status })
  }
  if (typeof error === 'object') {
    // Anything shaped like an error body or an error frame: {code?, params?, detail | error | message}.
    const coded = error as Coded
    const known = translated(i18n, coded.code, coded.params)
    if (known) return known
    const text = [coded.detail, coded.error, coded.message].find((t) => typeof t === 'string' && t)
    if (text) return text as string
  }
  return String(error)
}

/** `errorMessage` bound to the component's i18n. */
export function useErrorMessage(): (error: unknown) => string {
  const { t, te } = useI18n()
  return (error) => errorMessage(error, { t: (key, params) => t(key, params ?? {}), te })
}
