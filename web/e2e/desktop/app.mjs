// Launching the real app under tauri-driver + WebKitWebDriver, shared by the desktop E2E
// (the freshly built binary) and the package test (the binary the .deb installed).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import assert from 'node:assert/strict'

import { Builder, By, Capabilities } from 'selenium-webdriver'

import { freePort, waitFor } from '../support.mjs'

/**
 * Start `app` in a WebDriver session with `env` on top of ours. By default the app gets its own
 * data, config and webview dirs (SAGE_DATA_DIR, XDG_CONFIG_HOME, XDG_DATA_HOME) so nothing
 * touches the real user's.
 */
export async function launchApp(app, env = {}) {
  assert.ok(process.env.DISPLAY, 'desktop E2E needs a display: run under xvfb-run (scripts/test.sh does)')
  assert.ok(existsSync(app), `app binary missing at ${app}: build it with scripts/test.sh`)
  const scratch = []
  const temp = (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    scratch.push(dir)
    return dir
  }
  const appEnv = {
    ...process.env,
    SAGE_DATA_DIR: temp('sage-e2e-'),
    // The shell keeps window state and its settings in the config dir, and the webview its
    // localStorage (UI preferences) in the data home: point both away from the real user's too.
    XDG_CONFIG_HOME: temp('sage-e2e-config-'),
    XDG_DATA_HOME: temp('sage-e2e-share-'),
    SAGE_HEARTBEAT_SECONDS: '1',
    // The app runs the frozen sidecar it was built with, as installers ship it: scripts/test.sh
    // exports SAGE_SIDECAR_PYTHON (dev mode) for other layers, so drop it unless a test sets it.
    SAGE_SIDECAR_PYTHON: undefined,
    // Tests that want the launch update check point it at their own feed.
    SAGE_UPDATE_CHECK: 'off',
    ...env,
  }
  for (const [name, value] of Object.entries(appEnv)) if (value === undefined) delete appEnv[name]
  const [port, nativePort] = [await freePort(), await freePort()]
  const driverProcess = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    env: appEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok, { what: 'tauri-driver' })
  const capabilities = new Capabilities()
  capabilities.setBrowserName('wry')
  capabilities.set('tauri:options', { application: app })
  const driver = await new Builder().withCapabilities(capabilities).usingServer(`http://127.0.0.1:${port}/`).build()
  return {
    driver,
    dataDir: appEnv.SAGE_DATA_DIR,
    appEnv,
    temp,
    async close() {
      await driver.quit().catch(() => {})
      driverProcess.kill()
    },
    cleanup() {
      for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The connection badge's phase: connecting | connected | error | startup-error. */
export async function phase(driver) {
  return driver.findElement(By.css('[data-testid="connection-state"]')).getAttribute('data-phase')
}

/** Open the (lazily loaded) status page and read the versions and database state it shows. */
export async function statusFacts(driver) {
  await driver.findElement(By.css('[data-testid="nav-status"]')).click()
  const sidecar = await waitFor(
    async () => (await driver.findElements(By.css('[data-testid="sidecar-version"]')))[0],
    { what: 'the status page' },
  )
  return {
    sidecarVersion: await sidecar.getText(),
    uiVersion: await driver.findElement(By.css('[data-testid="ui-version"]')).getText(),
    db: await driver.findElement(By.css('[data-testid="db-status"]')).getText(),
  }
}
