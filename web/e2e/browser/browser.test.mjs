// Browser E2E: the built UI in Debian's Chromium (playwright-core), a real sidecar from the
// project venv, and the connection injected exactly as the shell does it (an init script).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'

import { chromium } from 'playwright-core'
import { preview } from 'vite'

import { ROOT, freePort, saveArtifact, sidecarVersion } from '../support.mjs'

const PYTHON = process.env.SAGE_SIDECAR_PYTHON ?? join(ROOT, '.venv/bin/python')
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

/** Start the real sidecar and wait for its READY line, as the shell does. */
function startSidecar(allowedOrigin) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sage-browser-'))
  const apiKey = randomBytes(32).toString('hex')
  const child = spawn(PYTHON, ['-m', 'sage_sidecar'], {
    env: { ...process.env, SAGE_API_KEY: apiKey, SAGE_DATA_DIR: dataDir, SAGE_CORS_ORIGINS: allowedOrigin, SAGE_HEARTBEAT_SECONDS: '1' },
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sidecar never said READY')), 30_000)
    child.once('exit', (code) => reject(new Error(`sidecar exited early (${code})`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('SAGE_SIDECAR_READY ')) return
      clearTimeout(timer)
      const { port, version } = JSON.parse(line.slice('SAGE_SIDECAR_READY '.length))
      const apiBase = `http://127.0.0.1:${port}`
      resolve({
        child,
        dataDir,
        config: { apiBase, wsBase: apiBase.replace('http', 'ws'), apiKey, version },
        stop() {
          child.kill('SIGKILL')
          rmSync(dataDir, { recursive: true, force: true })
        },
      })
    })
  })
}

describe('UI in a real browser against the real sidecar', () => {
  let server, origin, sidecar, browser

  before(async () => {
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    server = await preview({ root: join(ROOT, 'web'), logLevel: 'silent', preview: { port, host: '127.0.0.1', strictPort: true } })
    sidecar = await startSidecar(origin)
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  })

  after(async () => {
    await browser?.close()
    sidecar?.stop()
    await server?.close()
  })

  async function openWith(sage) {
    const page = await browser.newPage({ locale: 'en-US' })
    await page.addInitScript((value) => {
      Object.defineProperty(window, '__SAGE__', { value: Object.freeze(value) })
    }, sage)
    await page.goto(origin)
    return page
  }

  it('connects, shows the sidecar version and live events', async () => {
    const page = await openWith(sidecar.config)
    await page.locator('[data-testid="connection-state"][data-phase="connected"]').waitFor()
    assert.equal(await page.getByTestId('sidecar-version').textContent(), sidecarVersion())
    await page.locator('[data-testid="event-item"][data-type="heartbeat"]').first().waitFor({ timeout: 10_000 })
    saveArtifact('browser-connected.png', (await page.screenshot()).toString('base64'))
    await page.close()
  })

  it('switches language to 中文 and back, and remembers the choice', async () => {
    const page = await openWith(sidecar.config)
    const badge = page.getByTestId('connection-state')
    await page.locator('[data-phase="connected"]').waitFor()
    await page.getByTestId('language').selectOption('zh')
    assert.equal((await badge.textContent()).trim(), '已连接')
    await page.reload()
    await page.locator('[data-phase="connected"]').waitFor()
    assert.equal((await badge.textContent()).trim(), '已连接')
    saveArtifact('browser-zh.png', (await page.screenshot()).toString('base64'))
    await page.getByTestId('language').selectOption('en')
    assert.equal((await badge.textContent()).trim(), 'Connected')
    await page.close()
  })

  it('explains a refused key instead of showing a blank page', async () => {
    const page = await openWith({ ...sidecar.config, apiKey: '0'.repeat(64) })
    await page.locator('[data-phase="error"]').waitFor()
    assert.match(await page.getByTestId('connection-error').textContent(), /Missing or invalid API key/)
    assert.ok(await page.getByTestId('retry').isVisible())
    await page.close()
  })

  it('shows a readable error and a retry when nothing was injected', async () => {
    const page = await browser.newPage()
    await page.goto(origin)
    await page.locator('[data-phase="error"]').waitFor()
    assert.match(await page.getByTestId('connection-error').textContent(), /No sidecar connection was provided/)
    await page.close()
  })
})
