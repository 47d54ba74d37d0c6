#!/usr/bin/env node
// Drive an installed Sage window through tauri-driver (W3C WebDriver; on Windows it starts
// msedgedriver for WebView2, on Linux WebKitWebDriver) and check that the UI reaches
// "connected": the window loaded, asked the shell for the connection over IPC and talked to the
// sidecar with the key. No npm packages: plain fetch against the driver.
//
//   node scripts/smoke-webdriver.mjs --app PATH [--driver http://127.0.0.1:4444] [--timeout 90]
//
// tauri-driver must already be running (the release workflow starts it with --native-driver
// pointing at the msedgedriver that matches the runner's Edge). Ending the session closes the app.
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    app: { type: 'string' },
    driver: { type: 'string', default: 'http://127.0.0.1:4444' },
    timeout: { type: 'string', default: '90' },
  },
})
if (!values.app) throw new Error('--app PATH is required')
const deadline = Date.now() + Number(values.timeout) * 1000

async function call(method, path, body) {
  const response = await fetch(`${values.driver}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  })
  const data = await response.json()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(data.value ?? data)}`)
  return data.value
}

// The app inherits tauri-driver's environment: the workflow starts it with a fresh SAGE_DATA_DIR
// and SAGE_UPDATE_CHECK=off.
console.log(`webdriver: starting ${values.app}`)
const session = await call('POST', '/session', {
  capabilities: { alwaysMatch: { 'tauri:options': { application: values.app } } },
})
const id = session.sessionId
let phase = null
try {
  while (Date.now() < deadline) {
    phase = await call('POST', `/session/${id}/execute/sync`, {
      script: "const el = document.querySelector('[data-testid=connection-state]'); return el && el.dataset.phase",
      args: [],
    }).catch(() => null)
    if (phase === 'connected') break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  if (phase !== 'connected') throw new Error(`the window never reached "connected" (last phase: ${phase})`)
  const title = await call('GET', `/session/${id}/title`)
  console.log(`webdriver: the window "${title}" reached "connected"`)
} finally {
  await call('DELETE', `/session/${id}`).catch((error) => console.error(`webdriver: ending the session: ${error}`))
}
