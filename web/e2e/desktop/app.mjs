// Launching the real app under tauri-driver + WebKitWebDriver, shared by the desktop E2E
// (the freshly built binary) and the package test (the binary the .deb installed).
//
// The test owns every app it launches: each launch marks its processes (tauri-driver,
// WebKitWebDriver, the app, its sidecar) with SAGE_E2E_LAUNCH=<id> in their environment, and
// `close()` ends the WebDriver session, then kills by pid whatever is still running and checks it
// is gone; so do a launch that never got its session and the test process's exit. Each test file
// runs in its own process with its own D-Bus session bus (`sessionBus()`), so an app left over
// from one file can never own the single-instance name (on Linux a D-Bus name derived from the
// identifier) that the next file's app looks for, and hand the launch over to itself.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readlinkSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import assert from 'node:assert/strict'

import { Builder, By, Capabilities } from 'selenium-webdriver'

import { endProcesses, freePort, killNow, processesWithEnv, waitFor } from '../support.mjs'

/** Limits, so that a launch or a hook that cannot finish fails with a message instead of hanging. */
export const LIMITS = {
  /** tauri-driver up, the app started and its WebDriver session open. */
  sessionMs: 60_000,
  /** Ending the WebDriver session (WebKitWebDriver closes the app). */
  quitMs: 15_000,
  /** How long the app and its sidecar get to exit by themselves once the session ended. */
  exitGraceMs: 5_000,
  /** For `before`/`after` hooks that launch or close apps: two launches and a close fit. */
  hook: { timeout: 150_000 },
  /** For one test. */
  test: { timeout: 60_000 },
}

const MARK = 'SAGE_E2E_LAUNCH'
const unclosed = new Set()  // marks of launches whose processes may still run
let bus  // this test file's D-Bus session: a promise of {address}

const marked = (mark) => () => processesWithEnv(`${MARK}=${mark}`)

// Whatever way this test process ends, the apps it launched end with it (a process killed with
// SIGKILL cannot do this; scripts/test.sh's layer timeout kills the whole process group then).
process.on('exit', () => {
  for (const mark of unclosed) killNow(marked(mark)())
})
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[signal]))
}

/**
 * This test file's own D-Bus session bus, started on first use: a private dbus-daemon whose
 * address becomes DBUS_SESSION_BUS_ADDRESS for everything the file starts afterwards (the app,
 * the fake desktop of desktop-bus.mjs). It ends with the test process.
 */
export function sessionBus() {
  bus ??= new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'sage-e2e-bus-'))
    const daemon = spawn('dbus-daemon', ['--session', `--address=unix:path=${join(dir, 'bus')}`, '--nofork', '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'ignore'],  // stderr: only its complaint that it cannot raise its fd limit
    })
    daemon.unref()  // the file's tests, not the bus, decide when this process is done
    process.on('exit', () => {
      daemon.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    })
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address in 10 s')), 10_000)
    daemon.once('error', (error) => reject(new Error(`dbus-daemon: ${error.message} (apt package dbus)`)))
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)))
    createInterface({ input: daemon.stdout }).once('line', (address) => {
      clearTimeout(timer)
      daemon.stdout.destroy()
      process.env.DBUS_SESSION_BUS_ADDRESS = address.trim()
      resolve({ address: address.trim() })
    })
  })
  return bus
}

/** Reject with `message()` if `promise` is not settled within `ms`. */
function within(promise, ms, message) {
  let timer
  const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(message())), ms) })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

/** The executable of a process, without the " (deleted)" a rebuilt binary gets. */
function exeOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '')
  } catch {
    return null
  }
}

/**
 * Start `app` in a WebDriver session with `env` on top of ours. By default the app gets its own
 * data, config and webview dirs (SAGE_DATA_DIR, XDG_CONFIG_HOME, XDG_DATA_HOME) so nothing
 * touches the real user's.
 */
export async function launchApp(app, env = {}) {
  assert.ok(process.env.DISPLAY, 'desktop E2E needs a display: run under xvfb-run (scripts/test.sh does)')
  assert.ok(existsSync(app), `app binary missing at ${app}: build it with scripts/test.sh`)
  await sessionBus()
  const scratch = []
  const temp = (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    scratch.push(dir)
    return dir
  }
  const mark = randomBytes(8).toString('hex')
  const appEnv = {
    ...process.env,
    [MARK]: mark,
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
  const processes = marked(mark)
  const appExe = realpathSync(app)
  /** The app's own process (not tauri-driver, WebKitWebDriver or the sidecar), or undefined. */
  const appPid = () => processes().find(({ pid }) => exeOf(pid) === appExe)?.pid
  const cleanup = () => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
  }

  unclosed.add(mark)
  const [port, nativePort] = [await freePort(), await freePort()]
  const driverProcess = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    env: appEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  let driver
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok, { what: 'tauri-driver', timeoutMs: 15_000 })
    const capabilities = new Capabilities()
    capabilities.setBrowserName('wry')
    capabilities.set('tauri:options', { application: app })
    const session = new Builder().withCapabilities(capabilities).usingServer(`http://127.0.0.1:${port}/`).build()
    session.catch(() => {})  // raced below; its late failure, once everything is killed, is no news
    driver = await within(session, LIMITS.sessionMs, () => {
      const pid = appPid()
      return `no WebDriver session after ${LIMITS.sessionMs / 1000} s: ` + (pid
        ? `the app (pid ${pid}) runs but its webview never answered`
        : 'the app is not running (did it hand over to another instance on this D-Bus session, or crash?)')
    })
  } catch (error) {
    driverProcess.kill('SIGKILL')
    await endProcesses(processes, { graceMs: 0, what: 'the failed launch' })
    unclosed.delete(mark)
    cleanup()
    throw error
  }

  let closing
  return {
    driver,
    /** The app's pid while it runs (undefined once it exited, or when it never showed up). */
    pid: appPid() ?? await waitFor(appPid, { what: 'the app process', timeoutMs: 5_000 }).catch(() => undefined),
    appPid,
    dataDir: appEnv.SAGE_DATA_DIR,
    appEnv,
    temp,
    /**
     * End the session, then make sure nothing of this launch runs: what has not exited by itself
     * after `exitGraceMs` is killed. Resolves with the processes that had to be killed
     * ([{pid, name}]); safe to call more than once.
     */
    close() {
      closing ??= (async () => {
        await within(driver.quit(), LIMITS.quitMs, () => 'WebDriver session did not end').catch(() => {})
        driverProcess.kill()
        const leftovers = await endProcesses(processes, { graceMs: LIMITS.exitGraceMs, what: 'the launched app' })
        unclosed.delete(mark)
        if (leftovers.length) {
          const names = leftovers.map(({ pid, name }) => `${name} (${pid})`).join(', ')
          console.error(`# still running ${LIMITS.exitGraceMs / 1000} s after the WebDriver session ended, killed: ${names}`)
        }
        return leftovers
      })()
      return closing
    },
    cleanup,
  }
}

/**
 * The sidecar connection as the UI gets it: the shell's `get_connection` command over Tauri IPC
 * (it waits while the sidecar starts, and fails with the startup error when it cannot start).
 */
export async function shellConnection(driver) {
  return driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1]
    window.__TAURI_INTERNALS__.invoke('get_connection').then(done, (error) => done({ error }))`)
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
