// Browser E2E of the workspace's PDF preview (pdf.js into canvases, components/PdfPreview.vue)
// under the desktop app's CSP: a three-page PDF written by hand is painted where its text is, page
// by page as it scrolls into view; zoom changes the page's size; a damaged and a password-protected
// PDF get their notice with Download still offered; a 400-page file keeps only the pages near the
// view painted; nothing is fetched from outside the app.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { damagedPdf, darkPixelsInText, encryptedPdf, openWorkspaceUnderAppCsp, pdfWithPages, TEXT_BOX } from '../pdfFiles.mjs'
import { saveArtifact, startSidecar, startUi, waitFor } from '../support.mjs'

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

describe('the PDF preview in a real browser', () => {
  let ui, sidecar, page
  const requests = []

  before(async () => {
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    // pdf.js loads (its chunk and worker) after this: under the app's policy, as in the webview.
    ;({ page } = await openWorkspaceUnderAppCsp(ui, sidecar, 'Reader'))
    page.on('request', (request) => requests.push(request.url()))
    await page.getByTestId('ws-upload').setInputFiles([
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdfWithPages(['First page', 'Second page', 'Third page']) },
      { name: 'broken.pdf', mimeType: 'application/pdf', buffer: damagedPdf() },
      { name: 'locked.pdf', mimeType: 'application/pdf', buffer: encryptedPdf() },
      { name: 'long.pdf', mimeType: 'application/pdf', buffer: pdfWithPages(Array.from({ length: 400 }, (_, i) => `Page ${i + 1}`)) },
    ])
    await page.locator('[data-testid="ws-entry"][data-path="locked.pdf"]').waitFor()
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
  })

  const open = (path) => page.locator(`[data-testid="ws-entry"][data-path="${path}"]`).getByTestId('ws-open').click()
  /** Dark pixels where page n's text is drawn (darkPixelsInText, run in the page). Polled from
   * here: waitForFunction evaluates a string inside the page, which the app's CSP refuses. */
  const painted = (n, box = TEXT_BOX) => page.evaluate(`(${darkPixelsInText})(${n}, ${JSON.stringify(box)})`)
  const paints = (n) => waitFor(async () => (await painted(n)) > 50, { timeoutMs: 15_000, what: `page ${n} painted where its text is` })
  const widthOfPage1 = () => page.locator('[data-page="1"]').evaluate((element) => element.getBoundingClientRect().width)

  it('paints a multi-page PDF where its text is, each page as it scrolls into view', async () => {
    await open('report.pdf')
    await page.getByTestId('pdf-pages').waitFor()
    assert.equal(await page.getByTestId('pdf-pages').textContent(), '3 pages')
    assert.equal(await page.getByTestId('pdf-canvas').count(), 3)
    await paints(1)
    assert.equal(await painted(3), 0, 'the third page waits until it is near the view')
    await page.locator('[data-page="3"]').scrollIntoViewIfNeeded()
    await paints(3)
    // Only the text area is dark: the same box lower on the page is white.
    assert.equal(await painted(3, { ...TEXT_BOX, y: 300 }), 0)
    saveArtifact('workspace-pdf.png', (await page.screenshot({ fullPage: true })).toString('base64'))
  })

  it('passes axe (WCAG 2.1 A and AA): named controls, a named, focusable page view', async () => {
    await page.evaluate(AXE) // evaluated, not a script tag: the app's CSP refuses inline scripts
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run('[data-testid="ws-preview"]', {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'],
      })
      return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
    })
    assert.deepEqual(violations, [])
  })

  it('zooms in, out and back to the width', async () => {
    await page.locator('[data-page="1"]').scrollIntoViewIfNeeded()
    const fitted = await widthOfPage1()
    await page.getByTestId('pdf-zoom-in').click()
    await waitFor(async () => (await widthOfPage1()) > fitted + 10, { what: 'a wider page' })
    await page.getByTestId('pdf-zoom-out').click()
    await page.getByTestId('pdf-zoom-out').click()
    await waitFor(async () => (await widthOfPage1()) < fitted - 10, { what: 'a narrower page' })
    await page.getByTestId('pdf-fit').click()
    await waitFor(async () => Math.abs((await widthOfPage1()) - fitted) < 2, { what: 'the page at the width again' })
    await paints(1)
  })

  it('keeps a long PDF to the few pages near the view', async () => {
    await open('long.pdf')
    await page.locator('[data-testid="pdf-pages"]', { hasText: '400 pages' }).waitFor()
    await paints(1)
    const bitmaps = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="pdf-canvas"]')].filter((c) => c.width > 0).length)
    assert.ok((await bitmaps()) <= 3, `${await bitmaps()} pages hold a bitmap`)
    await page.locator('[data-page="250"]').scrollIntoViewIfNeeded()
    await paints(250)
    assert.equal(await painted(1), 0, 'page 1 gave its bitmap back')
    assert.ok((await bitmaps()) <= 4, `${await bitmaps()} pages hold a bitmap`)
  })

  for (const [path, failure, words] of [['broken.pdf', 'damaged', 'could not be read'], ['locked.pdf', 'encrypted', 'password']]) {
    it(`says why ${path} is not shown, and offers Download`, async () => {
      await open(path)
      await page.locator('[data-testid="ws-preview-name"]', { hasText: path }).waitFor()
      // The notice for this file (the last file's may still be on screen for a moment).
      const notice = page.locator(`[data-testid="pdf-error"][data-failure="${failure}"]`)
      await notice.waitFor({ timeout: 10_000 })
      assert.match(await notice.textContent(), new RegExp(words))
      assert.ok(await page.getByTestId('ws-download').isEnabled())
      assert.equal(await page.getByTestId('pdf-canvas').count(), 0)
    })
  }

  it('fetched nothing from outside the app and broke no rule of its policy', async () => {
    const outside = requests.filter((url) => !url.startsWith(ui.origin) && !url.startsWith(sidecar.config.apiBase) && !url.startsWith('blob:') && !url.startsWith('data:'))
    assert.deepEqual(outside, [])
    assert.deepEqual(await page.evaluate(() => window.__violations), [])
    assert.ok(requests.some((url) => /pdf\.worker.*\.mjs$/.test(url)), 'the worker came from the app')
  })
})
