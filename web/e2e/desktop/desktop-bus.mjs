// The desktop around the app under test: a StatusNotifierWatcher and a notification server on
// the test file's own D-Bus session (src-python/tests/fixtures/desktop_bus.py), and a window manager's
// close button (x11_close.py). See docs/desktop.md, "How the tests talk to D-Bus".
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { PYTHON, ROOT, waitFor } from '../support.mjs'
import { sessionBus } from './app.mjs'

const FIXTURES = join(ROOT, 'src-python/tests/fixtures')

/** Start the fake panel + notification daemon on this test file's session bus (app.mjs);
 * resolves once both bus names are owned. */
export async function startDesktopBus() {
  await sessionBus()
  const child = spawn(PYTHON, [join(FIXTURES, 'desktop_bus.py')], { stdio: ['pipe', 'pipe', 'inherit'] })
  const events = []
  const pending = new Map()
  let nextId = 1
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line)
    if ('reply' in message) {
      const waiter = pending.get(message.reply)
      pending.delete(message.reply)
      if (message.error) waiter?.reject(new Error(message.error))
      else waiter?.resolve(message.result)
    } else {
      events.push(message)
    }
  })
  await waitFor(() => events.some((e) => e.event === 'ready'), { what: 'the test D-Bus services', timeoutMs: 15_000 })

  function request(cmd, args = {}) {
    const id = nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${cmd}: no answer`)) }, 10_000)
      pending.set(id, {
        resolve: (value) => { clearTimeout(timer); resolve(value) },
        reject: (error) => { clearTimeout(timer); reject(error) },
      })
      child.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
    })
  }

  return {
    /** Tray items that registered with the watcher. */
    items: () => events.filter((e) => e.event === 'item'),
    /** Notify calls the server received, oldest first. */
    notifications: () => events.filter((e) => e.event === 'notify'),
    /** The tray menu read over com.canonical.dbusmenu: [{id, label, type, enabled, visible}]. */
    menu: () => request('menu'),
    /** The tray item's StatusNotifierItem properties. */
    item: () => request('item'),
    /** Click a tray menu item (dbusmenu Event "clicked"), found by its label. */
    click: (label) => request('click', { label }),
    /** The user clicks a notification (ActionInvoked with the "default" action). */
    clickNotification: (id) => request('invoke', { notification: id, action: 'default' }),
    stop: () => child.kill(),
  }
}

/** Close the app's window titled `title` like a window manager's × button does. */
export function closeWindow(pid, title = 'Sage') {
  execFileSync(PYTHON, [join(FIXTURES, 'x11_close.py'), String(pid), title], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** A fake `xdg-open` first on PATH: records what the app asked to open, one line per call. */
export function fakeOpener() {
  const dir = mkdtempSync(join(tmpdir(), 'sage-e2e-opener-'))
  const record = join(dir, 'opened.txt')
  writeFileSync(join(dir, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${record}'\n`)
  chmodSync(join(dir, 'xdg-open'), 0o755)
  return {
    path: `${dir}:${process.env.PATH}`,
    opened: () => { try { return readFileSync(record, 'utf8').split('\n').filter(Boolean) } catch { return [] } },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
