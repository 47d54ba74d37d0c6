// Desktop E2E of workspace previews in the real window (issue #16): WebKitGTK under the app's own
// CSP, not chromium. A PDF and a hostile HTML file are uploaded into an agent's workspace through
// the sidecar's API and opened on the Workspace screen: the PDF's frame (a blob: URL, which the
// CSP's frame-src allows) is laid out with Download beside it, and the HTML is shown but inert: its
// script sets no marker and nothing in it reaches the loopback server this test counts requests on.
import { createServer } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { PNG } from 'pngjs'
import { By } from 'selenium-webdriver'

import { LIMITS, launchApp, phase, shellConnection } from './app.mjs'
import { ROOT, saveArtifact, waitFor } from '../support.mjs'

const APP = process.env.SAGE_APP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/sage-desktop')
// While developing, SAGE_E2E_SIDECAR_PYTHON runs the dev sidecar instead of the frozen build.
const DEV_SIDECAR = process.env.SAGE_E2E_SIDECAR_PYTHON ? { SAGE_SIDECAR_PYTHON: process.env.SAGE_E2E_SIDECAR_PYTHON } : {}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const find = async (driver, css) => (await driver.findElements(By.css(css)))[0]

/** A one-page PDF saying `text`, written by hand (objects, then an xref with their offsets). */
function minimalPdf(text) {
  const stream = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let body = '%PDF-1.4\n'
  const offsets = objects.map((object, i) => {
    const offset = body.length
    body += `${i + 1} 0 obj\n${object}\nendobj\n`
    return offset
  })
  const xref = body.length
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  body += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('')
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(body, 'latin1')
}

/**
 * Whether WebKit painted anything but white inside `frame` (its border and corners left out).
 * WebKitWebDriver leaves part of a tall element's shot unpainted (opaque black): that is no page
 * either. Subframes are in the shot: the HTML preview's text is.
 */
async function paintedIn(frame, artifact) {
  const shot = PNG.sync.read(Buffer.from(await frame.takeScreenshot(), 'base64'))
  saveArtifact(artifact, PNG.sync.write(shot).toString('base64'))
  const colours = new Set()
  for (let y = 8; y < shot.height - 8; y += 3) {
    for (let x = 8; x < shot.width - 8; x += 3) colours.add(shot.data.readUInt32BE(4 * (y * shot.width + x)))
  }
  return [...colours].some((colour) => colour !== 0xffffffff && colour !== 0x000000ff)
}

describe('workspace previews in the desktop app', () => {
  let app, api, agent, tracker
  const tracked = []

  before(async () => {
    tracker = createServer((request, response) => {
      tracked.push(request.url)
      response.end('tracked')
    })
    await new Promise((resolve) => tracker.listen(0, '127.0.0.1', resolve))
    app = await launchApp(APP, { SAGE_AUTO_TITLE: '0', ...DEV_SIDECAR })
    await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
    const { apiBase, apiKey } = await shellConnection(app.driver)
    api = async (method, path, body) => {
      const multipart = body instanceof FormData
      const response = await fetch(apiBase + path, {
        method,
        headers: { Authorization: `Bearer ${apiKey}`, ...(multipart || body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: multipart || body === undefined ? body : JSON.stringify(body),
      })
      assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`)
      return response.json()
    }
    agent = await api('POST', '/api/agents', { name: 'Filer' })
  }, LIMITS.hook)
  after(async () => {
    await app?.close()
    app?.cleanup()
    tracker?.close()
  }, LIMITS.hook)

  /** Upload files ({name, type, bytes}) into the agent's workspace, as the screen does. */
  async function upload(files) {
    const form = new FormData()
    for (const { name, type, bytes } of files) form.append('files', new Blob([bytes], { type }), name)
    return api('POST', `/api/workspaces/${agent.id}/files`, form)
  }
  /** Open the Workspace screen on the agent and a file's preview, by a click in the tree. */
  async function openPreview(path, kind) {
    await app.driver.executeScript('location.hash = arguments[0]', `#/workspace?agent=${agent.id}`)
    const open = await waitFor(() => find(app.driver, `[data-testid="ws-entry"][data-path="${path}"] [data-testid="ws-open"]`), {
      what: `${path} in the tree`,
    })
    // Clicked from script: the tree loads on its own and moves the page under a native click.
    await app.driver.executeScript('arguments[0].click()', open)
    return waitFor(() => find(app.driver, `[data-testid="ws-preview"][data-kind="${kind}"]`), { what: `the ${kind} preview` })
      .catch(async (error) => {
        const text = await app.driver.executeScript('return document.querySelector("[data-testid=workspace]")?.innerText')
        throw new Error(`${error.message}; the screen shows: ${text}`)
      })
  }

  it('shows a PDF in a frame from a blob: URL that the CSP allows, with Download beside it', LIMITS.test, async () => {
    await upload([{ name: 'report.pdf', type: 'application/pdf', bytes: minimalPdf('Quarterly report') }])
    await openPreview('report.pdf', 'pdf')
    const frame = await waitFor(() => find(app.driver, '[data-testid="ws-preview-pdf"]'), { what: 'the PDF frame' })
    assert.match(await frame.getAttribute('src'), /^blob:/)
    const { width, height } = await frame.getRect()
    assert.ok(width > 100 && height > 100, `the frame is laid out: ${width}×${height}`)
    assert.equal((await app.driver.findElements(By.css('[data-testid="ws-error"] [role="alert"], [role="alert"]'))).length, 0, 'no error shown')
    const download = await find(app.driver, '[data-testid="ws-download"]')
    assert.ok(download && (await download.isDisplayed()) && (await download.isEnabled()), 'Download is offered beside the preview')
    // Whether WebKitGTK's viewer paints it: in the app it stays blank for now (docs/desktop.md,
    // "PDF previews in WebKitGTK"); the log line says which, so a build that paints it shows.
    await sleep(1_500)
    const painted = await paintedIn(frame, 'desktop-workspace-pdf-frame.png')
    const viewer = await app.driver.executeScript('return navigator.pdfViewerEnabled')
    console.log(`# the PDF frame in WebKitGTK is ${painted ? 'painted (the PDF renders)' : 'blank: Download is the way to read it'}` +
      ` (navigator.pdfViewerEnabled: ${viewer})`)
    saveArtifact('desktop-workspace-pdf.png', await app.driver.takeScreenshot())
  })

  it('keeps a hostile HTML file inert: no script runs, no request leaves', LIMITS.test, async () => {
    const origin = `http://127.0.0.1:${tracker.address().port}`
    const hostile = `<!doctype html><html><head><title>Hostile</title>
      <meta http-equiv="refresh" content="0; url=${origin}/refresh">
      <link rel="stylesheet" href="${origin}/style.css"></head>
      <body><h1 id="greeting">Hello from a file</h1>
      <img src="${origin}/pixel.png" alt="pixel">
      <script>
        try { window.top.__sageHostileRan = true } catch (error) {}
        try { localStorage.setItem('sage-hostile', '1') } catch (error) {}
        document.title = 'script ran'
        fetch('${origin}/fetch').catch(() => {})
        new Image().src = '${origin}/script-image'
      </script></body></html>`
    await upload([{ name: 'page.html', type: 'text/html', bytes: Buffer.from(hostile) }])
    await openPreview('page.html', 'html')
    const frame = await waitFor(() => find(app.driver, '[data-testid="ws-preview-html"]'), { what: 'the HTML frame' })
    assert.equal(await frame.getAttribute('sandbox'), '')
    assert.match(await frame.getAttribute('srcdoc'), /Hello from a file/)
    const { width, height } = await frame.getRect()
    assert.ok(width > 100 && height > 100, `the frame is laid out: ${width}×${height}`)
    await waitFor(() => paintedIn(frame, 'desktop-workspace-html-frame.png'), { what: 'the file shown (only inert)', timeoutMs: 5_000 })
    await sleep(2_000) // what the image, the refresh and the script would take to reach the tracker, and more
    assert.deepEqual(tracked, [], 'nothing reached the loopback server')
    const marks = await app.driver.executeScript(`return {
      ran: window.__sageHostileRan === true,
      stored: localStorage.getItem('sage-hostile'),
      // A sandbox without allow-same-origin is an opaque origin: its document is out of our reach.
      reachable: (() => { try { return arguments[0].contentDocument !== null } catch (error) { return false } })(),
      hash: location.hash,
    }`, frame)
    assert.deepEqual(marks, { ran: false, stored: null, reachable: false, hash: `#/workspace?agent=${agent.id}&path=page.html` })
    saveArtifact('desktop-workspace-html.png', await app.driver.takeScreenshot())
  })
})
