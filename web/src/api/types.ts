/**
 * Response shapes of the sidecar API, mirroring its Pydantic models (sage_sidecar/api/routes).
 * To be replaced by a client generated from `/api/openapi.json` as the API grows.
 */
export interface Health {
  status: 'ok' | 'degraded'
  version: string
  uptime_s: number
  db: { ok: boolean; revision: string | null }
}
