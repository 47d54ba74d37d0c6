// Package test: the app as a user gets it. scripts/test-package.sh builds the .deb, installs it
// with dpkg, runs this file against the installed binary, then uninstalls it.
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { launchApp, phase, statusFacts } from '../desktop/app.mjs'
import { appVersion, saveArtifact, sidecarsUsing, waitFor } from '../support.mjs'

const INSTALLED_APP = process.env.SAGE_INSTALLED_APP ?? '/usr/bin/sage-desktop'
const INSTALLED_SIDECAR_DIR = process.env.SAGE_INSTALLED_SIDECAR_DIR ?? '/usr/lib/Sage/sidecar'

describe('the installed .deb', () => {
  let app
  let home
  let dataDir
  before(async () => {
    // A brand-new user: an empty HOME and no overrides, so the app picks its real per-OS paths.
    home = mkdtempSync(join(tmpdir(), 'sage-package-home-'))
    dataDir = join(home, '.local/share/Sage/data')
    app = await launchApp(INSTALLED_APP, {
      HOME: home,
      SAGE_DATA_DIR: undefined,
      XDG_CONFIG_HOME: undefined,
      XDG_DATA_HOME: undefined,
      XDG_CACHE_HOME: undefined,
    })
  })
  after(async () => {
    await app?.close()
    app?.cleanup()
    rmSync(home, { recursive: true, force: true })
  })

  it('reaches "connected" with the version it was built with', async () => {
    await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
    const facts = await statusFacts(app.driver)
    assert.deepEqual(
      { sidecar: facts.sidecarVersion, ui: facts.uiVersion },
      { sidecar: appVersion(), ui: appVersion() },
    )
    assert.match(facts.db, /OK/)
    saveArtifact('package-connected.png', await app.driver.takeScreenshot())
  })

  it('keeps its data in the per-user data dir', () => {
    assert.ok(existsSync(join(dataDir, 'agent_platform.db')), `no database under ${dataDir}`)
    assert.ok(existsSync(join(dataDir, 'logs')), 'no logs folder in the data dir')
  })

  it('runs the frozen sidecar the package installed', () => {
    const pids = sidecarsUsing(dataDir)
    assert.equal(pids.length, 1, `expected one sidecar for ${dataDir}, found ${pids}`)
    const exe = readlinkSync(`/proc/${pids[0]}/exe`)
    assert.ok(exe.startsWith(INSTALLED_SIDECAR_DIR + '/'), `sidecar runs ${exe}`)
  })

  it('leaves no sidecar running after the app quits', async () => {
    await app.close()
    await waitFor(async () => sidecarsUsing(dataDir).length === 0, { what: 'the sidecar to exit' })
  })
})
