// Desktop E2E of workspace previews in the real window (issue #16): WebKitGTK under the app's own
// CSP, not chromium. A PDF and a hostile HTML file are uploaded into an agent's workspace through
// the sidecar's API and opened on the Workspace screen: pdf.js (its worker served by the app)
// paints the PDF's pages into canvases where their text is, with Download beside it (a `blob:`
// frame stayed blank in WebKitGTK), and the HTML is shown but inert: its script sets no marker and
// nothing in it reaches the loopback server this test counts requests on.
import { createServer } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { PNG } from 'pngjs'
import { By } from 'selenium-webdriver'

import { LIMITS, launchApp, phase, shellConnection } from './app.mjs'
import { damagedPdf, darkPixelsInText, pdfWithPages, TEXT_BOX } from '../pdfFiles.mjs'
import { ROOT, saveArtifact, waitFor } from '../support.mjs'

const APP = process.env.SAGE_APP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/sage-desktop')
// While developing, SAGE_E2E_SIDECAR_PYTHON runs the dev sidecar instead of the frozen build.
const DEV_SIDECAR = process.env.SAGE_E2E_SIDECAR_PYTHON ? { SAGE_SIDECAR_PYTHON: process.env.SAGE_E2E_SIDECAR_PYTHON } : {}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const find = async (driver, css) => (await driver.findElements(By.css(css)))[0]

/**
 * Whether WebKit painted anything but white inside `frame` (a frame or a canvas; its border and
 * corners left out).
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

  it('paints a PDF with pdf.js where its text is, with Download beside it', LIMITS.test, async () => {
    await upload([
      { name: 'report.pdf', type: 'application/pdf', bytes: pdfWithPages(['Quarterly report', 'Second page']) },
      { name: 'broken.pdf', type: 'application/pdf', bytes: damagedPdf() },
    ])
    await openPreview('report.pdf', 'pdf')
    const pages = await waitFor(() => find(app.driver, '[data-testid="pdf-pages"]'), { what: 'the page count' })
    assert.equal(await pages.getText(), '2 pages')
    assert.equal((await app.driver.findElements(By.css('[data-testid="ws-preview"] iframe'))).length, 0, 'no frame')
    // The canvas's own pixels, read back in the page (pdf.js drew them; nothing taints them).
    const dark = () => app.driver.executeScript(`return (${darkPixelsInText})(1, arguments[0])`, TEXT_BOX)
    await waitFor(async () => (await dark()) > 50, { what: 'page 1 painted where its text is', timeoutMs: 20_000 }).catch(async (error) => {
      const state = await app.driver.executeScript('return document.querySelector("[data-testid=ws-preview-pdf]")?.outerHTML.slice(0, 600)')
      throw new Error(`${error.message}; the preview: ${state}`)
    })
    const blankBox = await app.driver.executeScript(`return (${darkPixelsInText})(1, arguments[0])`, { ...TEXT_BOX, y: 300 })
    assert.equal(blankBox, 0, 'only where the text is')
    // And WebKit shows it: the canvas is painted on screen too, not only in its bitmap.
    const canvas = await find(app.driver, '[data-page="1"] canvas')
    assert.ok(await paintedIn(canvas, 'desktop-workspace-pdf-canvas.png'), 'the page is on screen')
    const download = await find(app.driver, '[data-testid="ws-download"]')
    assert.ok(download && (await download.isDisplayed()) && (await download.isEnabled()), 'Download is offered beside the preview')
    saveArtifact('desktop-workspace-pdf.png', await app.driver.takeScreenshot())

    await openPreview('broken.pdf', 'pdf')
    const notice = await waitFor(() => find(app.driver, '[data-testid="pdf-error"]'), { what: 'the damaged-PDF notice' })
    assert.equal(await notice.getAttribute('data-failure'), 'damaged')
    assert.ok(await (await find(app.driver, '[data-testid="ws-download"]')).isEnabled(), 'Download is still offered')
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
