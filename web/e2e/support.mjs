// Shared helpers for the end-to-end tests: free ports, waiting, artifacts, leftover processes.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createInterface } from 'node:readline'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const ARTIFACTS = process.env.SAGE_TEST_ARTIFACTS ?? join(ROOT, 'test-artifacts')

/** The app version from its single source, the workspace Cargo.toml (see scripts/version.py). */
export function appVersion() {
  const cargo = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8')
  return /^\[workspace\.package\][^[]*?^version = "([^"]+)"/ms.exec(cargo)[1]
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolvePort(port))
    })
  })
}

export async function waitFor(check, { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  let lastError
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      lastError = error
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`)
}

export function saveArtifact(name, base64Png) {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, name)
  writeFileSync(path, Buffer.from(base64Png, 'base64'))
  return path
}

/** A process's name, state letter and parent pid, from /proc/<pid>/stat. */
/** A process's name, state, parent and start time (clock ticks since boot) from /proc. */
export function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const [state, ppid] = fields
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state, ppid: Number(ppid), startTicks: Number(fields[19]),
  }
}

/** The parent of a process: the shell that spawned a sidecar. */
export const parentPid = (pid) => procStat(pid).ppid

/** Whether a process still runs (a zombie does not count). */
export function alive(pid) {
  try {
    return procStat(pid).state !== 'Z'
  } catch {
    return false
  }
}

/** Live (non-zombie) processes whose environment has SAGE_DATA_DIR=<dataDir> and a key. */
export function sidecarsUsing(dataDir) {
  const found = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      if (procStat(entry).state !== 'Z' && env.includes(`SAGE_DATA_DIR=${dataDir}`) && env.some((v) => v.startsWith('SAGE_API_KEY='))) {
        found.push(Number(entry))
      }
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found
}

/** Live processes whose environment has `entry` (NAME=value): [{pid, name}]. */
export function processesWithEnv(entry) {
  const found = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    try {
      const { name, state } = procStat(pid)
      if (state !== 'Z' && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry)) {
        found.push({ pid: Number(pid), name })
      }
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found
}

/**
 * End the processes `find()` lists: give them `graceMs` to exit by themselves, SIGKILL the rest
 * and wait until they are gone. Resolves with the ones that had to be killed; rejects if even
 * SIGKILL left one running.
 */
export async function endProcesses(find, { graceMs = 5_000, what = 'processes' } = {}) {
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && find().length) await new Promise((r) => setTimeout(r, 100))
  const leftovers = find()
  killNow(leftovers)
  await waitFor(() => find().length === 0, { timeoutMs: 5_000, what: `${what} to be gone after SIGKILL` })
  return leftovers
}

/** SIGKILL now, synchronously (usable in a process 'exit' handler). */
export function killNow(processes) {
  for (const { pid } of processes) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]
export const PYTHON = process.env.SAGE_SIDECAR_PYTHON ?? join(ROOT, '.venv/bin/python')

/** Start a process and resolve with the rest of its first stdout line starting with `prefix`. */
export function startWithReadyLine(command, args, env, prefix) {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'ignore'] })
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} never printed ${prefix}`)), 30_000)
    child.once('exit', (code) => reject(new Error(`${command} exited early (${code})`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith(prefix)) return
      clearTimeout(timer)
      resolvePromise({ child, rest: line.slice(prefix.length) })
    })
  })
}

/** The real sidecar from the venv, configured like the shell does it. */
export async function startSidecar(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sage-e2e-sidecar-'))
  const apiKey = randomBytes(32).toString('hex')
  const env = { ...process.env, SAGE_API_KEY: apiKey, SAGE_DATA_DIR: dataDir, SAGE_HEARTBEAT_SECONDS: '1', ...extraEnv }
  const { child, rest } = await startWithReadyLine(PYTHON, ['-m', 'sage_sidecar'], env, 'SAGE_SIDECAR_READY ')
  const { port, version } = JSON.parse(rest)
  const apiBase = `http://127.0.0.1:${port}`
  return {
    child,
    dataDir,
    config: { apiBase, wsBase: apiBase.replace('http', 'ws'), apiKey, version },
    async api(method, path, body) {
      const response = await fetch(apiBase + path, {
        method, headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return response.status === 204 ? null : response.json()
    },
    stop() {
      child.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** The scripted OpenAI-compatible provider in its own process; `script(turns)` queues replies. */
export async function startScriptedProvider() {
  const { child, rest } = await startWithReadyLine(PYTHON, ['-m', 'sage_sidecar.demo.scripted'], process.env, 'SCRIPTED_READY ')
  const root = `http://127.0.0.1:${rest.trim()}`
  return {
    baseUrl: `${root}/v1`,
    async script(turns) {
      await fetch(`${root}/__script`, { method: 'POST', body: JSON.stringify(turns), headers: { 'Content-Type': 'application/json' } })
    },
    /** The requests the sidecar sent since the last `script` call. */
    recorded: async () => (await fetch(`${root}/__requests`)).json(),
    stop: () => child.kill('SIGKILL'),
  }
}

/** The built UI served on loopback and Debian's Chromium; pages get the connection injected
 * exactly as the shell injects it (an init script defining window.__SAGE__). */
export async function startUi() {
  const { chromium } = await import('playwright-core')
  const { preview } = await import('vite')
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const server = await preview({ root: join(ROOT, 'web'), logLevel: 'silent', preview: { port, host: '127.0.0.1', strictPort: true } })
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  return {
    origin,
    browser,
    async open(sage, path = '/') {
      const page = await browser.newPage({ locale: 'en-US' })
      if (sage) {
        await page.addInitScript((value) => {
          Object.defineProperty(window, '__SAGE__', { value: Object.freeze(value) })
        }, sage)
      }
      await page.goto(origin + path)
      return page
    },
    async close() {
      await browser.close()
      await server.close()
    },
  }
}

/** Choose in a UiSelect (Reka's combobox, not a native <select>): open it by its trigger, then
 *  click the option — by `value` (its data-value) or by `label` (its accessible name). The
 *  options are portalled to <body>, so they are looked up on the page, not under the trigger. */
export async function chooseOption(trigger, { value, label }) {
  const page = trigger.page()
  await trigger.click()
  const option = label === undefined
    ? page.locator(`[role="option"][data-value="${value}"]`)
    : page.getByRole('option', { name: label, exact: true })
  await option.click()
  await page.locator('[role="listbox"]').waitFor({ state: 'detached' })
}

/** Wait until the screen is at rest before judging it: every lazy Settings section mounted
 *  (Desktop draws nothing in a browser), no loading placeholder (aria-busy), no animation or
 *  transition running, then two frames painted. A fixed pause once let axe measure /settings
 *  mid-change (a contrast violation seen once in five runs), and a screenshot catch a list
 *  still loading under load (the visual comparison). */
export async function settle(page) {
  await page.waitForLoadState('networkidle')
  await page.waitForFunction(() => {
    const sections = [...document.querySelectorAll('[data-section]:not([data-section="desktop"])')]
    return sections.every((s) => s.childElementCount > 0)
      && !document.querySelector('[aria-busy="true"]')
      && !document.getAnimations().some((a) => a.playState === 'running')
  }, null, { timeout: 15_000 })
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))
}
