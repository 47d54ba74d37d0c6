// Desktop E2E for the everyday comforts of issues #15 and #17: the tray's Pause/Resume scheduled
// tasks, Start Sage at login, the global quick-ask shortcut, and links that open in the browser. The real app under Xvfb with the
// fake panel of desktop-bus.mjs on its own D-Bus session; the shortcut is pressed with xdotool
// (XGrabKey works under Xvfb), and another application's grab is played by x11_grab.py.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { By, Key } from 'selenium-webdriver'

import { LIMITS, launchApp, phase, shellConnection } from './app.mjs'
import { fakeOpener, startDesktopBus } from './desktop-bus.mjs'
import { PYTHON, ROOT, saveArtifact, startScriptedProvider, waitFor } from '../support.mjs'

const APP = process.env.SAGE_APP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/sage-desktop')
// While developing, SAGE_E2E_SIDECAR_PYTHON runs the dev sidecar instead of the frozen build.
const DEV_SIDECAR = process.env.SAGE_E2E_SIDECAR_PYTHON ? { SAGE_SIDECAR_PYTHON: process.env.SAGE_E2E_SIDECAR_PYTHON } : {}

const find = async (driver, css) => (await driver.findElements(By.css(css)))[0]
const test = (name, fn) => it(name, LIMITS.test, fn)
const pageVisible = async (driver) => (await driver.executeScript('return document.visibilityState')) === 'visible'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A shell command through Tauri's IPC, as the UI invokes it: {ok} or {error}. */
async function invoke(driver, command, args = {}) {
  return driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1]
    window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((ok) => done({ ok }), (error) => done({ error }))`,
  command, args)
}

/** Press keys on the X display the way a user does (xdotool's XTEST events). */
const press = (keys) => execFileSync('xdotool', ['key', '--clearmodifiers', keys], { stdio: 'inherit' })

/** Another application holding a global shortcut (until `release()`). */
async function grabElsewhere(mods, key) {
  const child = spawn(PYTHON, [join(ROOT, 'src-python/tests/fixtures/x11_grab.py'), mods, key], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  await new Promise((resolve, reject) => {
    lines.once('line', (line) => (line === 'grabbed' ? resolve() : reject(new Error(line))))
    child.once('exit', (code) => reject(new Error(`x11_grab.py exited (${code})`)))
  })
  return { release: () => child.kill() }
}

describe('scheduled tasks in the tray, start at login, the quick-ask shortcut, links', () => {
  let bus, model, opener, app, main, home

  async function sidecarApi() {
    const { apiBase, apiKey } = await shellConnection(app.driver)
    return async (method, path, body) => {
      const response = await fetch(apiBase + path, {
        method, headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return response.json()
    }
  }
  const menuRow = async (pattern) => (await bus.menu()).find((row) => pattern.test(row.label))
  const toMain = () => app.driver.switchTo().window(main)
  /** Whether the quick-ask window exists and is on screen (WebDriver stays on the main window). */
  async function quickShown() {
    const quick = (await app.driver.getAllWindowHandles()).find((h) => h !== main)
    if (!quick) return false
    await app.driver.switchTo().window(quick)
    try {
      return await pageVisible(app.driver)
    } finally {
      await toMain()
    }
  }
  async function openSettings() {
    await toMain()
    if (!(await pageVisible(app.driver))) await bus.click('Show/Hide window')
    await waitFor(() => pageVisible(app.driver), { what: 'the main window shown' })
    await (await find(app.driver, '[data-testid="nav-settings"]')).click()
    await waitFor(() => find(app.driver, '[data-testid="close-to-tray"]'), { what: "the shell's settings" })
  }
  async function inView(css, what) {
    const element = await waitFor(() => find(app.driver, css), { what })
    await app.driver.executeScript('arguments[0].scrollIntoView({ block: "center" })', element)
    return element
  }
  // Settings' sections load on their own and move the page: a native click can land on what
  // moved into its place, so controls are clicked from script.
  const clickOn = (element) => app.driver.executeScript('arguments[0].click()', element)
  /** The page's alerts, to say why a wait failed. */
  const alerts = async () => Promise.all((await app.driver.findElements(By.css('[role="alert"]'))).map((a) => a.getText()))

  before(async () => {
    bus = await startDesktopBus()
    model = await startScriptedProvider()
    opener = fakeOpener()
    // The autostart entry goes to $HOME/.config/autostart: a HOME of the test's own.
    home = mkdtempSync(join(tmpdir(), 'sage-e2e-home-'))
    app = await launchApp(APP, { SAGE_DEMO_PROVIDER_URL: model.baseUrl, PATH: opener.path, HOME: home, ...DEV_SIDECAR })
    main = await app.driver.getWindowHandle()
    await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
  }, LIMITS.hook)
  after(async () => {
    await app?.close()
    app?.cleanup()
    model?.stop()
    bus?.stop()
    opener?.cleanup()
    if (home) rmSync(home, { recursive: true, force: true })
  }, LIMITS.hook)

  test('the tray pauses and resumes scheduled tasks with the window hidden, and follows the UI', async () => {
    const api = await sidecarApi()
    assert.deepEqual(await api('GET', '/api/tasks/scheduler'), { paused: false })
    const item = await waitFor(async () => {
      const row = await menuRow(/scheduled tasks$/)
      return row?.enabled && row
    }, { what: 'the scheduled-tasks item enabled' })
    assert.equal(item.label, 'Pause scheduled tasks')

    await bus.click('Show/Hide window')
    await waitFor(async () => !(await pageVisible(app.driver)), { what: 'the main window hidden' })
    await bus.click('Pause scheduled tasks')
    await waitFor(async () => (await api('GET', '/api/tasks/scheduler')).paused === true, { what: 'the sidecar paused' })
    await waitFor(async () => (await menuRow(/scheduled tasks$/))?.label === 'Resume scheduled tasks', { what: 'the label: Resume' })

    // Resumed elsewhere (the Tasks screen's call): task.scheduler_changed reaches the tray.
    assert.deepEqual(await api('PUT', '/api/tasks/scheduler', { paused: false }), { paused: false })
    await waitFor(async () => (await menuRow(/scheduled tasks$/))?.label === 'Pause scheduled tasks', { what: 'the label: Pause' })
  })

  test('Start Sage at login writes and removes the XDG autostart entry', async () => {
    const dir = join(home, '.config/autostart')
    const entries = () => (existsSync(dir) ? readdirSync(dir) : [])
    await openSettings()
    const toggle = await inView('[data-testid="start-at-login"]', 'the start-at-login switch')
    assert.equal(await toggle.isSelected(), false)
    assert.deepEqual(entries(), [])
    await clickOn(toggle)
    await waitFor(() => entries().length === 1, { what: 'the autostart entry' }).catch(async (error) => {
      throw new Error(`${error.message}; alerts: ${JSON.stringify(await alerts())}`)
    })
    const entry = readFileSync(join(dir, entries()[0]), 'utf8')
    assert.match(entry, /^\[Desktop Entry\]/)
    assert.ok(entry.includes(`Exec=${app.appEnv.SAGE_APP_BIN ?? APP}`) || entry.includes('Exec=/'), entry)
    assert.ok(await toggle.isSelected())
    await clickOn(toggle)
    await waitFor(() => entries().length === 0, { what: 'the entry removed' })
    assert.equal(await toggle.isSelected(), false)
  })

  test('Ctrl+Shift+Space opens quick ask from anywhere and shows in the tray', async () => {
    const status = (await invoke(app.driver, 'quick_ask_shortcut_status')).ok
    assert.deepEqual(status, { shortcut: 'CommandOrControl+Shift+Space', registered: true, problem: null, message: null })
    // Linux panels show no accelerators: the label carries the shortcut.
    assert.equal((await menuRow(/^Quick ask/)).label, 'Quick ask…  (Ctrl+Shift+Space)')
    press('ctrl+shift+space')
    await waitFor(quickShown, { what: 'quick ask opened by the shortcut' })
    press('ctrl+shift+space')
    await waitFor(async () => !(await quickShown()), { what: 'quick ask hidden by the shortcut' })
  })

  test('a new shortcut is recorded in Settings, and one another app holds is refused readably', async () => {
    await openSettings()
    assert.equal(await (await inView('[data-testid="shortcut-current"]', 'the shortcut')).getText(), 'Ctrl+Shift+Space')
    await clickOn(await find(app.driver, '[data-testid="shortcut-change"]'))
    const recorder = await waitFor(() => find(app.driver, '[data-testid="shortcut-recorder"]'), { what: 'the recorder' })
    await recorder.sendKeys(Key.chord(Key.CONTROL, Key.ALT, 'k'))
    await waitFor(async () => (await (await find(app.driver, '[data-testid="shortcut-current"]'))?.getText()) === 'Ctrl+Alt+K', {
      what: 'the new shortcut shown',
    })
    const saved = JSON.parse(readFileSync(join(app.appEnv.XDG_CONFIG_HOME, 'app.sage.desktop', 'shell-settings.json'), 'utf8'))
    assert.equal(saved.quickAskShortcut, 'Ctrl+Alt+KeyK')
    await waitFor(async () => (await menuRow(/^Quick ask/)).label === 'Quick ask…  (Ctrl+Alt+K)', { what: 'the tray relabelled' })

    press('ctrl+shift+space') // the old one is released
    await sleep(1_000)
    assert.equal(await quickShown(), false)
    press('ctrl+alt+k')
    await waitFor(quickShown, { what: 'quick ask opened by the new shortcut' })
    press('ctrl+alt+k')
    await waitFor(async () => !(await quickShown()), { what: 'quick ask hidden again' })

    const other = await grabElsewhere('control+mod1', 'j')
    try {
      await clickOn(await find(app.driver, '[data-testid="shortcut-change"]'))
      const again = await waitFor(() => find(app.driver, '[data-testid="shortcut-recorder"]'), { what: 'the recorder' })
      await again.sendKeys(Key.chord(Key.CONTROL, Key.ALT, 'j'))
      const error = await waitFor(() => find(app.driver, '[data-testid="shortcut-error"]'), { what: 'the refusal' })
      assert.equal(await error.getText(), 'Ctrl+Alt+J is already used by another application; choose another.')
      saveArtifact('desktop-shortcut-refused.png', await app.driver.takeScreenshot())
    } finally {
      other.release()
    }
    // The old one still works and is still what is saved.
    assert.equal(await (await find(app.driver, '[data-testid="shortcut-current"]')).getText(), 'Ctrl+Alt+K')
    const status = (await invoke(app.driver, 'quick_ask_shortcut_status')).ok
    assert.deepEqual(status, { shortcut: 'Ctrl+Alt+KeyK', registered: true, problem: null, message: null })
    press('ctrl+alt+k')
    await waitFor(quickShown, { what: 'quick ask still opened by the kept shortcut' })
    press('ctrl+alt+k')
    await waitFor(async () => !(await quickShown()), { what: 'quick ask hidden' })
  })

  test('a link in a reply opens in the default browser; a plain-http one after a confirmation', async () => {
    await toMain()
    if (!(await pageVisible(app.driver))) await bus.click('Show/Hide window')
    await (await find(app.driver, '[data-testid="nav-chat"]')).click()
    await model.script([{ text: 'See [the Tauri site](https://tauri.app/start/) or [an old page](http://example.com/old).' }])
    const composer = await waitFor(() => find(app.driver, '[data-testid="composer"]'), { what: 'the composer' })
    await composer.sendKeys('Where do I read more?', Key.ENTER)
    const secure = await waitFor(() => find(app.driver, '[data-testid="message"][data-role="assistant"] a[href="https://tauri.app/start/"]'), {
      what: 'the link in the reply',
    })
    const before = opener.opened().length
    const windows = (await app.driver.getAllWindowHandles()).length
    await secure.click()
    await waitFor(() => opener.opened().length > before, { what: 'xdg-open called for the link', timeoutMs: 5_000 })
    assert.deepEqual(opener.opened().slice(before), ['https://tauri.app/start/'])
    assert.equal((await app.driver.getAllWindowHandles()).length, windows, 'no window of our own opened')
    assert.equal(await app.driver.executeScript('return location.protocol'), 'tauri:', 'the app did not navigate away')

    // Plain http: asked first; Cancel opens nothing, Open opens it.
    const plain = await find(app.driver, '[data-testid="message"][data-role="assistant"] a[href="http://example.com/old"]')
    await plain.click()
    const cancel = await waitFor(() => find(app.driver, '[data-testid="link-confirm-cancel"]'), { what: 'the confirmation' })
    assert.match(await (await find(app.driver, '[data-testid="link-confirm"]')).getText(), /http:\/\/example\.com\/old/)
    saveArtifact('desktop-link-confirm.png', await app.driver.takeScreenshot())
    await cancel.click()
    await sleep(500)
    assert.equal(opener.opened().length, before + 1)
    await plain.click()
    await (await waitFor(() => find(app.driver, '[data-testid="link-confirm-open"]'), { what: 'the confirmation again' })).click()
    await waitFor(() => opener.opened().length === before + 2, { what: 'xdg-open called for the http link', timeoutMs: 5_000 })
    assert.equal(opener.opened().at(-1), 'http://example.com/old')
  })
})
