import { afterEach, describe, expect, it, vi } from 'vitest'

import { ApiError, HttpClient } from './http'

const config = { apiBase: 'http://127.0.0.1:4100', wsBase: 'ws://127.0.0.1:4100', apiKey: 'secret-key', version: '' }

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

afterEach(() => vi.useRealTimers())

describe('HttpClient', () => {
  it('sends the key as a bearer token on every request', async () => {
    const fetchImpl = vi.fn(async () => json(200, { ok: true }))
    const client = new HttpClient(() => config, fetchImpl)
    await client.request('/api/health')
    await client.request('/api/other', { method: 'POST', body: { a: 1 } })
    expect(fetchImpl).toHaveBeenCalledTimes(2)
    for (const [url, init] of fetchImpl.mock.calls as unknown as [string, RequestInit][]) {
      expect(url.startsWith('http://127.0.0.1:4100/api/')).toBe(true)
      expect((init.headers as Record<string, string>).Authorization).toBe('Bearer secret-key')
    }
  })

  it('reads the current config at request time (after a sidecar restart)', async () => {
    let current = config
    const fetchImpl = vi.fn(async () => json(200, {}))
    const client = new HttpClient(() => current, fetchImpl)
    current = { ...config, apiBase: 'http://127.0.0.1:5200', apiKey: 'new-key' }
    await client.request('/api/health')
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://127.0.0.1:5200/api/health')
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer new-key')
  })

  it('waits for a config that is still coming (the desktop window opens while the sidecar starts)', async () => {
    let handOver: (c: typeof config) => void = () => {}
    const pending = new Promise<typeof config>((resolve) => (handOver = resolve))
    const fetchImpl = vi.fn(async () => json(200, {}))
    const client = new HttpClient(() => pending, fetchImpl)
    const request = client.request('/api/health')
    await Promise.resolve()
    expect(fetchImpl).not.toHaveBeenCalled()
    handOver(config)
    await request
    const [url] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://127.0.0.1:4100/api/health')
  })

  it('turns HTTP errors into ApiError with the server detail, without retrying', async () => {
    const fetchImpl = vi.fn(async () => json(401, { detail: 'Missing or invalid API key' }))
    const client = new HttpClient(() => config, fetchImpl)
    await expect(client.request('/api/health')).rejects.toEqual(new ApiError(401, 'Missing or invalid API key'))
    expect(fetchImpl).toHaveBeenCalledTimes(1)
  })

  it('keeps the stable code and params of a sidecar error beside its detail', async () => {
    const body = { detail: 'a.pdf is larger than the 1 MB limit', code: 'file.too_large', params: { name: 'a.pdf' } }
    const client = new HttpClient(() => config, vi.fn(async () => json(413, body)))
    const error = await client.request('/api/x').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 413, detail: body.detail, code: 'file.too_large', params: { name: 'a.pdf' } })
  })

  it('retries a GET with backoff while the sidecar is unreachable', async () => {
    vi.useFakeTimers()
    const fetchImpl = vi
      .fn()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValueOnce(json(200, { version: '0.1.0' }))
    const client = new HttpClient(() => config, fetchImpl)
    const pending = client.request<{ version: string }>('/api/health')
    await vi.runAllTimersAsync()
    await expect(pending).resolves.toEqual({ version: '0.1.0' })
    expect(fetchImpl).toHaveBeenCalledTimes(3)
  })

  it('gives up after its retries with a readable error', async () => {
    vi.useFakeTimers()
    const fetchImpl = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'))
    const client = new HttpClient(() => config, fetchImpl)
    const pending = client.request('/api/health', { retries: 2 })
    const assertion = expect(pending).rejects.toThrow('Cannot reach the sidecar: Failed to fetch')
    await vi.runAllTimersAsync()
    await assertion
    expect(fetchImpl).toHaveBeenCalledTimes(3)
  })

  it('does not retry a POST (it may not be idempotent)', async () => {
    const fetchImpl = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'))
    const client = new HttpClient(() => config, fetchImpl)
    await expect(client.request('/api/x', { method: 'POST', body: {} })).rejects.toBeInstanceOf(ApiError)
    expect(fetchImpl).toHaveBeenCalledTimes(1)
  })
})
