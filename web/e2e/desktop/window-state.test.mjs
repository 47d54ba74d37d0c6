// Window state (tauri-plugin-window-state): size and position survive a restart. The app must
// quit the way a user's quit does (SIGTERM → app.exit → the plugin saves); ending the WebDriver
// session kills the app without that, so the test signals the shell itself.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { LIMITS, launchApp, phase } from './app.mjs'
import { ROOT, sidecarsUsing, waitFor } from '../support.mjs'

const APP = process.env.SAGE_APP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/sage-desktop')

describe('window state', () => {
  const configDir = mkdtempSync(join(tmpdir(), 'sage-e2e-window-config-'))
  const dataDir = mkdtempSync(join(tmpdir(), 'sage-e2e-window-data-'))
  const env = { XDG_CONFIG_HOME: configDir, SAGE_DATA_DIR: dataDir }
  after(() => {
    rmSync(configDir, { recursive: true, force: true })
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('restores the size and position the window had when the app quit', { timeout: 2 * LIMITS.hook.timeout }, async () => {
    const first = await launchApp(APP, env)
    let wanted
    try {
      await waitFor(async () => (await phase(first.driver)) === 'connected', { what: 'connected state' })
      await first.driver.manage().window().setRect({ x: 140, y: 100, width: 900, height: 620 })
      wanted = await first.driver.manage().window().getRect()
      assert.deepEqual([wanted.width, wanted.height], [900, 620], 'the window took the new size')
      assert.ok(first.pid, 'the running app')
      process.kill(first.pid, 'SIGTERM')
      await waitFor(async () => sidecarsUsing(dataDir).length === 0, { what: 'the app to quit' })
    } finally {
      await first.close()
      first.cleanup()
    }

    const second = await launchApp(APP, env)
    try {
      await waitFor(async () => (await phase(second.driver)) === 'connected', { what: 'connected state' })
      const restored = await second.driver.manage().window().getRect()
      assert.deepEqual(restored, wanted)
    } finally {
      await second.close()
      second.cleanup()
    }
  })
})
