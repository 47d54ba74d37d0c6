// Where launch -> connected goes, per run (after a warm-up launch that creates the data dir): the
// sidecar's spawn and its log's "ready" line, the page's navigation start, DOMContentLoaded, load,
// first-contentful-paint and 'sage:connected', and its fetches, all in seconds from the app
// process's start; and the CPU each process of the app had used by 'connected' (the shell, the
// sidecar, WebKit's web and network processes). One JSON line per run.
// Usage: xvfb-run -a node launch_timeline.mjs APP_BIN [RUNS]  (release build; see run.sh)
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
const webDir = join(dirname(fileURLToPath(import.meta.url)), '../../web')
const require = createRequire(join(webDir, 'package.json'))
const { Builder, Capabilities } = require('selenium-webdriver')
const { freePort, procStat, sidecarsUsing, waitFor } = await import(join(webDir, 'e2e/support.mjs'))
const [app, runsArg] = process.argv.slice(2)
const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
const cpuOf = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) / 100 }
function tree() {
  const all = {}
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) { try { all[p] = procStat(p) } catch {} }
  return all
}
function appPid(dataDir) {
  const exe = realpathSync(app)
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try { if (realpathSync(`/proc/${pid}/exe`) === exe && readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`SAGE_DATA_DIR=${dataDir}`)) return pid } catch {}
  }
}
const PAGE = `const nav = performance.getEntriesByType('navigation')[0] || {}
 const o = performance.timeOrigin
 const r = performance.getEntriesByType('resource').map(e => [e.name.split('/').pop().slice(0,40), e.initiatorType, Math.round(e.startTime), Math.round(e.responseEnd)])
 const m = performance.getEntriesByType('mark').map(e => [e.name, Math.round(e.startTime)])
 const p = performance.getEntriesByType('paint').map(e => [e.name, Math.round(e.startTime)])
 return { o, nav: { respEnd: Math.round(nav.responseEnd||0), domInteractive: Math.round(nav.domInteractive||0), dcl: Math.round(nav.domContentLoadedEventEnd||0), load: Math.round(nav.loadEventEnd||0) }, r, m, p }`
async function once(dataDir) {
  const [port, nativePort] = [await freePort(), await freePort()]
  const drv = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], { env: { ...process.env, SAGE_DATA_DIR: dataDir }, stdio: 'ignore' })
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok, { what: 'tauri-driver' })
  const caps = new Capabilities(); caps.setBrowserName('wry'); caps.set('tauri:options', { application: app })
  const driver = await new Builder().withCapabilities(caps).usingServer(`http://127.0.0.1:${port}/`).build()
  try {
    const pid = appPid(dataDir)
    const launched = procStat(pid).startTicks / 100
    const epoch0 = launched + (Date.now() / 1000 - uptime())
    await waitFor(async () => (await driver.executeScript(`return performance.getEntriesByName('sage:connected').length`)) > 0, { intervalMs: 10, what: 'connected' })
    const t = tree()
    const kids = Object.entries(t).filter(([, s]) => String(s.ppid) === String(pid))
    const cpu = { app: cpuOf(pid) }
    for (const [k, s] of kids) { try { cpu[s.name] = cpuOf(k) } catch {} }
    const side = sidecarsUsing(dataDir)[0]
    const sideStart = side ? procStat(side).startTicks / 100 - launched : null
    const page = await driver.executeScript(PAGE)
    const rel = (ms) => Number(((page.o + ms) / 1000 - epoch0).toFixed(3))
    let readyLog = null
    try {
      const log = readFileSync(join(dataDir, 'logs/sidecar.log'), 'utf8').split('\n').filter((l) => l.includes(' ready, data dir')).pop()
      const m = log && log.match(/^(\S+ \S+)/)
      if (m) readyLog = Number((Date.parse(m[1].replace(',', '.').replace(' ', 'T')) / 1000 - epoch0).toFixed(3))
    } catch {}
    return { sidecarSpawn: sideStart, sidecarReadyLog: readyLog, pageOrigin: rel(0), nav: Object.fromEntries(Object.entries(page.nav).map(([k, v]) => [k, rel(v)])),
      paint: page.p.map(([n, s]) => [n, rel(s)]), marks: page.m.map(([n, s]) => [n, rel(s)]), resources: page.r.map(([n, i, s, e]) => [n, i, rel(s), rel(e)]), cpu }
  } finally {
    await driver.quit().catch(() => {}); drv.kill()
    await waitFor(() => sidecarsUsing(dataDir).length === 0, { what: 'quit', timeoutMs: 15000 })
  }
}
const dataDir = mkdtempSync(join(tmpdir(), 'sage-tl-'))
await once(dataDir)
for (let i = 0; i < Number(runsArg ?? 3); i++) console.log(JSON.stringify(await once(dataDir)))
rmSync(dataDir, { recursive: true, force: true })
