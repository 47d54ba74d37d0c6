/**
 * The HTTP side of the sidecar API: every request carries the key; idempotent requests are
 * retried with backoff when the sidecar is unreachable (it may be restarting), never on HTTP errors.
 */
import type { SageConfig } from './config'
import { backoffDelay, sleep } from './backoff'

/**
 * A failed request: `status` 0 when the sidecar could not be reached. The sidecar's error bodies
 * are `{detail, code, params}`: `code` is stable and the UI translates by it (see
 * composables/errors.ts); `detail` is readable English for codes the UI does not know.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly code: string | null = null,
    readonly params: Record<string, unknown> = {},
  ) {
    super(status ? `HTTP ${status}: ${detail}` : detail)
    this.name = 'ApiError'
  }
}

export interface RequestOptions {
  method?: string
  body?: unknown
  /** A multipart body (file uploads); the browser sets its Content-Type with the boundary.
   * A Blob is sent as the raw body (a file the sidecar reads whole, e.g. a history import). */
  form?: FormData | Blob
  /** Network-failure retries for idempotent requests (GET by default). */
  retries?: number
  signal?: AbortSignal
  /** `text` for non-JSON bodies such as a Markdown export, `blob` for files (a zip). */
  as?: 'json' | 'text' | 'blob'
}

export type FetchLike = typeof fetch

export class HttpClient {
  /** `config` may return a promise: in the desktop app a request made while the sidecar starts waits for it. */
  constructor(
    private readonly config: () => SageConfig | Promise<SageConfig>,
    private readonly fetchImpl: FetchLike = (...args) => fetch(...args),
  ) {}

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const method = options.method ?? 'GET'
    const retries = options.retries ?? (method === 'GET' ? 3 : 0)
    for (let attempt = 0; ; attempt++) {
      const { apiBase, apiKey } = await this.config()
      let response: Response
      try {
        response = await this.fetchImpl(`${apiBase}${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${apiKey}`,
            ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          body: options.form ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
          signal: options.signal,
        })
      } catch (error) {
        if (attempt >= retries || options.signal?.aborted) {
          throw new ApiError(0, `Cannot reach the sidecar: ${(error as Error).message}`)
        }
        await sleep(backoffDelay(attempt))
        continue
      }
      if (!response.ok) {
        const { detail, code, params } = await errorBody(response)
        throw new ApiError(response.status, detail, code, params)
      }
      if (response.status === 204) return null as T
      if (options.as === 'text') return (await response.text()) as T
      if (options.as === 'blob') return (await response.blob()) as T
      return (await response.json()) as T
    }
  }
}

interface ErrorBody {
  detail: string
  code: string | null
  params: Record<string, unknown>
}

async function errorBody(response: Response): Promise<ErrorBody> {
  let body: { detail?: unknown; code?: unknown; params?: unknown }
  try {
    body = (await response.json()) as typeof body
  } catch {
    return { detail: response.statusText || 'request failed', code: null, params: {} }
  }
  const code = typeof body.code === 'string' ? body.code : null
  const params = body.params && typeof body.params === 'object' ? (body.params as Record<string, unknown>) : {}
  return { detail: errorDetail(body), code, params }
}

function errorDetail(body: { detail?: unknown }): string {
  if (typeof body.detail === 'string') return body.detail
  // FastAPI validation errors: a list of {loc, msg}; show the first, readably.
  if (Array.isArray(body.detail) && body.detail[0]?.msg) {
    const first = body.detail[0] as { loc?: unknown[]; msg: string }
    const field = first.loc?.filter((p) => p !== 'body').join('.')
    return field ? `${field}: ${first.msg}` : first.msg
  }
  return JSON.stringify(body.detail ?? body)
}
