// Browser E2E: the built UI in Debian's Chromium (playwright-core), a real sidecar from the
// project venv, and the connection injected exactly as the shell does it (an init script).
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { appVersion, chooseOption, saveArtifact, startSidecar, startUi } from '../support.mjs'

describe('UI in a real browser against the real sidecar', () => {
  let ui, sidecar

  before(async () => {
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin })
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
  })

  const openWith = (sage, path) => ui.open(sage, path)

  it('connects, shows the sidecar version and live events', async () => {
    const page = await openWith(sidecar.config, '/#/status')
    await page.locator('[data-testid="connection-state"][data-phase="connected"]').waitFor()
    assert.equal(await page.getByTestId('sidecar-version').textContent(), appVersion())
    assert.equal(await page.getByTestId('ui-version').textContent(), appVersion())
    await page.locator('[data-testid="event-item"][data-type="heartbeat"]').first().waitFor({ timeout: 10_000 })
    saveArtifact('browser-connected.png', (await page.screenshot()).toString('base64'))
    await page.close()
  })

  it('switches language to 中文 and back, and remembers the choice', async () => {
    const page = await openWith(sidecar.config)
    const badge = page.getByTestId('connection-state')
    await page.locator('[data-phase="connected"]').waitFor()
    await chooseOption(page.getByTestId('language'), { value: 'zh' })
    assert.equal((await badge.textContent()).trim(), '已连接')
    await page.reload()
    await page.locator('[data-phase="connected"]').waitFor()
    assert.equal((await badge.textContent()).trim(), '已连接')
    saveArtifact('browser-zh.png', (await page.screenshot()).toString('base64'))
    await chooseOption(page.getByTestId('language'), { value: 'en' })
    assert.equal((await badge.textContent()).trim(), 'Connected')
    await page.close()
  })

  it('shows where the data lives and exports everything as one zip', async () => {
    const page = await openWith(sidecar.config, '/#/settings')
    await page.getByTestId('data-settings').waitFor()
    assert.equal(await page.getByTestId('data-dir').textContent(), sidecar.dataDir)
    assert.match(await page.getByTestId('data-usage').textContent(), /database [\d.]+ (KB|MB)/)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-all').click()])
    assert.match(download.suggestedFilename(), /^sage-backup-\d{12}\.zip$/)
    const zip = readFileSync(await download.path())
    assert.equal(zip.subarray(0, 2).toString(), 'PK', 'a zip file')
    assert.ok(zip.includes(Buffer.from('agent_platform.db')), 'with the database in it')
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
    const page = await ui.open(null)
    await page.locator('[data-phase="error"]').waitFor()
    assert.match(await page.getByTestId('connection-error').textContent(), /No sidecar connection was provided/)
    await page.close()
  })
})
