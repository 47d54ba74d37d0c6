// Shared helpers for the end-to-end tests: free ports, waiting, artifacts, leftover processes.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const ARTIFACTS = process.env.SAGE_TEST_ARTIFACTS ?? join(ROOT, 'test-artifacts')

/** The sidecar's version, from its single source (`sage_sidecar/__init__.py`). */
export function sidecarVersion() {
  const init = readFileSync(join(ROOT, 'src-python/sage_sidecar/__init__.py'), 'utf8')
  return /__version__ = "([^"]+)"/.exec(init)[1]
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolvePort(port))
    })
  })
}

export async function waitFor(check, { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  let lastError
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      lastError = error
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`)
}

export function saveArtifact(name, base64Png) {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, name)
  writeFileSync(path, Buffer.from(base64Png, 'base64'))
  return path
}

/** Live (non-zombie) processes whose environment has SAGE_DATA_DIR=<dataDir> and a key. */
export function sidecarsUsing(dataDir) {
  const found = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (state !== 'Z' && env.includes(`SAGE_DATA_DIR=${dataDir}`) && env.some((v) => v.startsWith('SAGE_API_KEY='))) {
        found.push(Number(entry))
      }
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found
}
