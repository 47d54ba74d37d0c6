// Auto-update, end to end, on the installed .deb (scripts/test-update.sh builds two signed
// packages with a throwaway key, installs the older one, and runs this file). A feed on
// loopback offers the newer one; the app must refuse a tampered download, install the genuine
// one through dpkg, restart into it, and never let a silent feed hold up its start.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { By } from 'selenium-webdriver'

import { launchApp, phase } from '../desktop/app.mjs'
import { parentPid, sidecarsUsing, waitFor } from '../support.mjs'

const NEW_DEB = process.env.SAGE_UPDATE_NEW_DEB
const NEW_VERSION = process.env.SAGE_UPDATE_NEW_VERSION
const OLD_VERSION = process.env.SAGE_UPDATE_OLD_VERSION
const PACKAGE = process.env.SAGE_UPDATE_PACKAGE ?? 'sage'
const APP = '/usr/bin/sage-desktop'

const installedVersion = () => execFileSync('dpkg-query', ['-W', '-f=${Version}', PACKAGE], { encoding: 'utf8' })

/** A release feed on loopback: `latest.json` plus the package it points at. */
async function startFeed() {
  const feed = { mode: 'genuine' }
  const genuine = readFileSync(NEW_DEB)
  const tampered = Buffer.from(genuine)
  tampered[tampered.length - 100] ^= 0xff // same size, one byte off: only the signature can tell
  const signature = readFileSync(`${NEW_DEB}.sig`, 'utf8').trim()
  const server = createServer((request, response) => {
    if (feed.mode === 'silent') return // accept, never answer: an unreachable feed
    const base = `http://127.0.0.1:${server.address().port}`
    if (request.url === '/latest.json') {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({
        version: NEW_VERSION,
        notes: 'Test release',
        pub_date: new Date().toISOString(),
        platforms: { 'linux-x86_64-deb': { signature, url: `${base}/sage.deb` } },
      }))
    } else if (request.url === '/sage.deb') {
      response.setHeader('content-type', 'application/vnd.debian.binary-package')
      response.end(feed.mode === 'tampered' ? tampered : genuine)
    } else {
      response.statusCode = 404
      response.end()
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  feed.url = `http://127.0.0.1:${server.address().port}/latest.json`
  feed.close = () => {
    server.closeAllConnections()
    server.close()
  }
  return feed
}

async function openStatus(driver) {
  await driver.findElement(By.css('[data-testid="nav-status"]')).click()
  return waitFor(async () => (await driver.findElements(By.css('[data-testid="update-status"]')))[0], {
    what: 'the update status card',
  })
}

const updateState = async (driver) =>
  (await driver.findElement(By.css('[data-testid="update-status"]'))).getAttribute('data-state')

describe('auto-update of the installed .deb', { skip: !NEW_DEB && 'run by scripts/test-update.sh' }, () => {
  let feed
  let home
  const launch = () =>
    launchApp(APP, {
      HOME: home, SAGE_DATA_DIR: undefined, XDG_DATA_HOME: undefined, SAGE_UPDATE_ENDPOINT: feed.url, SAGE_UPDATE_CHECK: undefined,
    })

  before(async () => {
    feed = await startFeed()
    home = mkdtempSync(join(tmpdir(), 'sage-update-home-'))
  })
  after(() => {
    feed?.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('starts normally while the update feed never answers', async () => {
    feed.mode = 'silent'
    const app = await launch()
    try {
      await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
      await openStatus(app.driver)
      assert.equal(await updateState(app.driver), 'checking', 'the check is still waiting on the feed')
    } finally {
      await app.close()
      app.cleanup()
    }
  })

  it('refuses a tampered package with a readable reason and keeps running', async () => {
    feed.mode = 'tampered'
    const app = await launch()
    try {
      const banner = await waitFor(
        async () => (await app.driver.findElements(By.css('[data-testid="update-banner"][data-state="available"]')))[0],
        { what: 'the update offer' },
      )
      assert.match(await banner.getText(), new RegExp(NEW_VERSION.replaceAll('.', '\\.')))
      await app.driver.findElement(By.css('[data-testid="update-install"]')).click()
      await openStatus(app.driver)
      await waitFor(async () => (await updateState(app.driver)) === 'failed', { what: 'the refusal', timeoutMs: 60_000 })
      const message = await app.driver.findElement(By.css('[data-testid="update-error"]')).getText()
      assert.match(message, /signature/i)
      assert.equal(installedVersion(), OLD_VERSION, 'nothing was installed')
      assert.equal(await phase(app.driver), 'connected', 'the app keeps running')
    } finally {
      await app.close()
      app.cleanup()
    }
  })

  it('installs the signed update and restarts into the new version', async () => {
    feed.mode = 'genuine'
    const app = await launch()
    const dataDir = join(home, '.local/share/Sage/data')
    let restarted = null
    try {
      await waitFor(
        async () => (await app.driver.findElements(By.css('[data-testid="update-install"]')))[0],
        { what: 'the update offer' },
      ).then((button) => button.click())
      const restart = await waitFor(
        async () => (await app.driver.findElements(By.css('[data-testid="update-restart"]')))[0],
        { what: 'the installed update', timeoutMs: 120_000 },
      )
      assert.equal(installedVersion(), NEW_VERSION)
      const [oldSidecar] = sidecarsUsing(dataDir)
      // The app quits while the click is still in flight, so WebDriver may report an error.
      await restart.click().catch(() => {})
      // The relaunched app is no longer under WebDriver: find it through its new sidecar.
      const newSidecar = await waitFor(
        async () => sidecarsUsing(dataDir).find((pid) => pid !== oldSidecar),
        { what: 'the restarted app', timeoutMs: 30_000 },
      )
      restarted = parentPid(newSidecar)
      assert.equal(readlinkSync(`/proc/${restarted}/exe`), APP)
    } finally {
      // Quit the relaunched app (not ours through WebDriver) whatever happened above.
      if (restarted) process.kill(restarted, 'SIGTERM')
      await waitFor(async () => sidecarsUsing(dataDir).length === 0, { what: 'the restarted app to quit' })
      await app.close()
      app.cleanup()
    }
  })

  it('runs the new version, which finds itself up to date', async () => {
    const app = await launch()
    try {
      await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
      await openStatus(app.driver)
      await waitFor(async () => (await updateState(app.driver)) === 'up-to-date', { what: 'the up-to-date check' })
      const text = await app.driver.findElement(By.css('[data-testid="update-status"]')).getText()
      assert.match(text, new RegExp(NEW_VERSION.replaceAll('.', '\\.')))
    } finally {
      await app.close()
      app.cleanup()
    }
  })
})
