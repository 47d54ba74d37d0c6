// Desktop E2E: the real app window under Xvfb, driven through tauri-driver + WebKitWebDriver,
// with the frozen sidecar the bundle ships. Run by scripts/test.sh (which builds everything).
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { By, Key } from 'selenium-webdriver'

import { LIMITS, launchApp, phase, shellConnection, statusFacts } from './app.mjs'
import { ROOT, saveArtifact, appVersion, sidecarsUsing, startScriptedProvider, waitFor } from '../support.mjs'

const APP = process.env.SAGE_APP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/sage-desktop')
const launch = (env) => launchApp(APP, env)
const { hook, test: limit } = LIMITS
// A database at a schema revision no build of this version knows (as a newer Sage leaves it).
const NEWER_DATABASE = `import sqlite3, sys
with sqlite3.connect(sys.argv[1]) as db:
    db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    db.execute("INSERT INTO alembic_version VALUES ('9999')")`
const READ_REVISION = `import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT version_num FROM alembic_version").fetchone()[0])`

describe('desktop app', () => {
  describe('with the frozen sidecar', () => {
    let app, firstConnection
    before(async () => {
      app = await launch()
    }, hook)
    after(async () => {
      await app?.close()
      app?.cleanup()
    }, hook)

    it('hands the UI its connection over IPC, never in the page', limit, async () => {
      const sage = firstConnection = await shellConnection(app.driver)
      assert.match(sage.apiBase, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(sage.wsBase, sage.apiBase.replace('http', 'ws'))
      assert.match(sage.apiKey, /^[0-9a-f]{64}$/)
      assert.equal(sage.version, appVersion())
      // The key is not a page global (nothing a page script or an extension could read off window).
      assert.equal(await app.driver.executeScript('return typeof window.__SAGE__'), 'undefined')
      const html = await app.driver.getPageSource()
      assert.ok(!html.includes(sage.apiKey), 'the key is not in the document')
    })

    it('reaches "connected" and shows the version read over authenticated HTTP', limit, async () => {
      await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
      const facts = await statusFacts(app.driver)
      assert.equal(facts.sidecarVersion, appVersion())
      assert.equal(facts.uiVersion, appVersion(), 'the UI was stamped with the same version')
      assert.match(facts.db, /OK/)
      assert.ok(existsSync(join(app.dataDir, 'agent_platform.db')), 'the sidecar used the test data dir')
    })

    it('shows live events pushed over the WebSocket', limit, async () => {
      const heartbeat = await waitFor(
        async () => (await app.driver.findElements(By.css('[data-testid="event-item"][data-type="heartbeat"]')))[0],
        { what: 'a heartbeat event', timeoutMs: 15_000 },
      )
      assert.match(await heartbeat.getText(), /heartbeat/)
      const path = saveArtifact('desktop-connected.png', await app.driver.takeScreenshot())
      assert.ok(existsSync(path))
    })

    it('a second launch hands over to the running app instead of starting another', limit, async () => {
      const [running] = sidecarsUsing(app.dataDir)
      const second = spawn(APP, [], { env: app.appEnv, stdio: 'ignore' })
      // The data dir is the running app's (shell data-dir lock): the second launch must not start
      // a sidecar on it, not even for a moment before it hands over.
      const others = new Set()
      const watch = setInterval(() => sidecarsUsing(app.dataDir).filter((pid) => pid !== running).forEach((pid) => others.add(pid)), 5)
      const code = await new Promise((resolve) => {
        const timer = setTimeout(() => { second.kill('SIGKILL'); resolve('still running') }, 15_000)
        second.once('exit', (exitCode) => { clearTimeout(timer); resolve(exitCode) })
      }).finally(() => clearInterval(watch))
      assert.equal(code, 0, 'the second instance should exit (it needs a D-Bus session bus)')
      assert.deepEqual([...others], [], 'the second launch started a sidecar on the same data')
      assert.equal(sidecarsUsing(app.dataDir).length, 1, 'one sidecar, the first instance\'s')
      await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'first instance still connected' })
    })

    it('reconnects on its own when the sidecar is killed', limit, async () => {
      const [oldPid] = sidecarsUsing(app.dataDir)
      const beatsBefore = (await app.driver.findElements(By.css('[data-testid="event-item"][data-type="heartbeat"]'))).length
      process.kill(oldPid, 'SIGKILL')
      const newPid = await waitFor(() => sidecarsUsing(app.dataDir).find((pid) => pid !== oldPid), {
        what: 'a replacement sidecar', timeoutMs: 10_000,
      })
      assert.notEqual(newPid, oldPid)
      // The UI adopted the new port and key (a Tauri event) and its socket streams again.
      await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected again' })
      await waitFor(
        async () => (await app.driver.findElements(By.css('[data-testid="event-item"][data-type="hello"]'))).length >= 2,
        { what: 'a hello from the new sidecar', timeoutMs: 10_000 },
      )
      assert.ok(beatsBefore >= 1)
      saveArtifact('desktop-reconnected.png', await app.driver.takeScreenshot())
    })

    it('a reload connects to the current sidecar, not the one it started with', limit, async () => {
      const current = await shellConnection(app.driver)
      await app.driver.navigate().refresh()
      await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected after a reload' })
      const again = await shellConnection(app.driver)
      assert.equal(again.apiBase, current.apiBase)
      assert.equal(again.apiKey, current.apiKey)
      // The sidecar was replaced by the test before: a config fixed at launch would be stale.
      assert.notEqual(again.apiKey, firstConnection.apiKey)
    })

    it('leaves no sidecar running once the app is closed', limit, async () => {
      const sidecars = sidecarsUsing(app.dataDir)
      assert.equal(sidecars.length, 1, 'exactly one sidecar while running')
      // close() kills what outlives the session: the app and its sidecar must not be among them.
      const killed = (await app.close()).map(({ pid }) => pid)
      assert.deepEqual(killed.filter((pid) => pid === app.pid || sidecars.includes(pid)), [], 'app and sidecar ended by themselves')
      assert.equal(sidecarsUsing(app.dataDir).length, 0)
    })
  })

  describe('a chat round trip in the real window', () => {
    let app, model
    before(async () => {
      model = await startScriptedProvider()
      // Demo mode: the sidecar configures the scripted model as "Demo (scripted)".
      app = await launch({ SAGE_DEMO_PROVIDER_URL: model.baseUrl })
    }, hook)
    after(async () => {
      await app?.close()
      app?.cleanup()
      model?.stop()
    }, hook)

    it('streams an answer that used a tool', limit, async () => {
      await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
      const composer = await waitFor(async () => (await app.driver.findElements(By.css('[data-testid="composer"]')))[0], { what: 'composer' })
      await composer.sendKeys('What time is it?', Key.ENTER)
      const done = await waitFor(
        async () => (await app.driver.findElements(By.css('[data-testid="message"][data-role="assistant"][data-status="completed"]')))[0],
        { what: 'a completed reply', timeoutMs: 20_000 },
      )
      assert.match(await done.getText(), /The tool answered: \d{4}-\d{2}-\d{2}T/)
      const card = await done.findElement(By.css('[data-testid="tool-card"]'))
      assert.equal(await card.getAttribute('data-tool'), 'current_time')
      saveArtifact('desktop-chat.png', await app.driver.takeScreenshot())
    })
  })

  describe('when the data was written by a newer Sage', () => {
    let app, dataDir
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'sage-e2e-newer-'))
      execFileSync('python3', ['-c', NEWER_DATABASE, join(dataDir, 'agent_platform.db')])
      app = await launch({ SAGE_DATA_DIR: dataDir })
    }, hook)
    after(async () => {
      await app?.close()
      app?.cleanup()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    }, hook)

    it("says so in the UI's words, not as a crash, and leaves the data untouched", limit, async () => {
      await waitFor(async () => (await phase(app.driver)) === 'startup-error', { what: 'startup error' })
      const message = await app.driver.findElement(By.css('[data-testid="startup-message"]')).getText()
      // The sidecar's coded refusal (storage.newer_database), translated by the UI.
      assert.match(message, /saved by a newer version of Sage|由更新版本的 Sage 保存/)
      assert.match(message, /9999/)
      assert.doesNotMatch(message, /exited before it was ready/)
      const revision = execFileSync('python3', ['-c', READ_REVISION, join(dataDir, 'agent_platform.db')], {
        encoding: 'utf8',
      })
      assert.equal(revision.trim(), '9999')
      saveArtifact('desktop-newer-database.png', await app.driver.takeScreenshot())
    })
  })

  describe('when the sidecar cannot start', () => {
    let app
    before(async () => {
      // Dev override pointed at a program that exits at once: the handshake never happens.
      app = await launch({ SAGE_SIDECAR_PYTHON: '/bin/false' })
    }, hook)
    after(async () => {
      await app?.close()
      app?.cleanup()
    }, hook)

    it('shows a readable error naming the log file, not a blank window', limit, async () => {
      await waitFor(async () => (await phase(app.driver)) === 'startup-error', { what: 'startup error' })
      const panel = await app.driver.findElement(By.css('[data-testid="startup-error"]')).getText()
      assert.match(panel, /exited before it was ready/)
      const logPath = await app.driver.findElement(By.css('[data-testid="log-path"]')).getText()
      assert.equal(logPath, join(app.dataDir, 'logs', 'shell.log'))
      assert.match(readFileSync(logPath, 'utf8'), /exited before it was ready/)
      saveArtifact('desktop-startup-error.png', await app.driver.takeScreenshot())
    })

    it('retries through the shell and reports the new failure', limit, async () => {
      const spawns = () => readFileSync(join(app.dataDir, 'logs', 'shell.log'), 'utf8').match(/sidecar spawned/g).length
      const before = spawns()
      await app.driver.findElement(By.css('[data-testid="startup-error"] button')).click()
      await waitFor(async () => (await phase(app.driver)) === 'startup-error', { what: 'error after retry' })
      const panel = await app.driver.findElement(By.css('[data-testid="startup-error"]')).getText()
      assert.match(panel, /exited before it was ready/)
      await waitFor(() => spawns() === before + 1, { what: 'a second spawn attempt', timeoutMs: 5_000 })
    })
  })
})
