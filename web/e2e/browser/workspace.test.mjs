// Browser E2E of the Workspace screen: upload files (button and drag and drop) and a folder, see a
// file uploaded elsewhere appear live, preview a hostile HTML file (it stays inert: no script runs,
// no request leaves, under the same CSP as the desktop app's webview), rename, delete and restore.
// A tracker server on loopback counts every request the hostile page would make.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { openWorkspaceUnderAppCsp } from '../pdfFiles.mjs'
import { saveArtifact, startSidecar, startUi } from '../support.mjs'

describe('the Workspace screen in a real browser', () => {
  let ui, sidecar, page, tracker, agent, folder
  const tracked = []

  before(async () => {
    tracker = createServer((request, response) => {
      tracked.push(request.url)
      response.end('tracked')
    })
    await new Promise((resolve) => tracker.listen(0, '127.0.0.1', resolve))
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    // Every frame and request from here on is under the app's policy.
    ;({ agent, page } = await openWorkspaceUnderAppCsp(ui, sidecar, 'Filer'))
    folder = mkdtempSync(join(tmpdir(), 'sage-e2e-folder-'))
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    tracker?.close()
    if (folder) rmSync(folder, { recursive: true, force: true })
  })

  const entry = (path) => page.locator(`[data-testid="ws-entry"][data-path="${path}"]`)

  it('uploads files with the button and by dropping them', async () => {
    await page.getByTestId('ws-upload').setInputFiles([
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nWater the **tomatoes**.') },
      { name: 'data.csv', mimeType: 'text/csv', buffer: Buffer.from('plant,days\ntomato,3\n') },
    ])
    await entry('notes.md').waitFor()
    await entry('data.csv').waitFor()
    await page.evaluate(() => {
      const transfer = new DataTransfer()
      transfer.items.add(new File(['print("hi")\n'], 'script.py', { type: 'text/x-python' }))
      document.querySelector('[data-testid="workspace"]').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
    })
    await entry('script.py').waitFor()
    await entry('notes.md').getByTestId('ws-open').click()
    assert.equal(await page.locator('[data-testid="ws-preview-markdown"] strong').textContent(), 'tomatoes')
    await entry('data.csv').getByTestId('ws-open').click()
    await page.locator('[data-testid="ws-preview-table"] td').first().waitFor()
    assert.deepEqual(await page.locator('[data-testid="ws-preview-table"] td').allTextContents(), ['tomato', '3'])
  })

  it('uploads a whole folder, keeping its structure', async () => {
    mkdirSync(join(folder, 'garden', 'beds'), { recursive: true })
    writeFileSync(join(folder, 'garden', 'plan.txt'), 'north bed: beans')
    writeFileSync(join(folder, 'garden', 'beds', 'one.txt'), 'bed one')
    await page.getByTestId('ws-upload-folder').setInputFiles(join(folder, 'garden'))
    await entry('garden/beds/one.txt').waitFor()
    await entry('garden/plan.txt').waitFor()
  })

  it('shows a file uploaded elsewhere as it arrives', async () => {
    const form = new FormData()
    form.append('files', new Blob(['from elsewhere']), 'live.txt')
    const response = await fetch(`${sidecar.config.apiBase}/api/workspaces/${agent.id}/files`, {
      method: 'POST', headers: { Authorization: `Bearer ${sidecar.config.apiKey}` }, body: form,
    })
    assert.equal(response.status, 201)
    await entry('live.txt').waitFor({ timeout: 10_000 })
  })

  /** Opens page.html on `on` and checks nothing in it ran or reached the network. */
  async function assertInert(on, base) {
    // A speculative fetch the policy then blocks shows up as a request that fails; only one
    // that finishes (and the tracker's own count) would be a leak.
    const finished = []
    on.on('requestfinished', (request) => finished.push(request.url()))
    await on.locator('[data-testid="ws-entry"][data-path="page.html"]').getByTestId('ws-open').click()
    const frame = on.getByTestId('ws-preview-html')
    await frame.waitFor()
    assert.equal(await frame.getAttribute('sandbox'), '')
    const inside = on.frameLocator('[data-testid="ws-preview-html"]')
    await inside.locator('#content').waitFor()
    await inside.locator('#go').click({ timeout: 3_000 }).catch(() => {}) // forms are off too
    await on.waitForTimeout(2_000) // time for a refresh, an onload, a late script
    assert.equal(await inside.locator('#content').textContent(), 'An innocent page', 'a script ran')
    assert.deepEqual(tracked, [], 'the hostile page reached the network')
    assert.deepEqual(finished.filter((url) => url.startsWith(base)), [])
  }

  it('previews a hostile HTML file inert: no script runs, no request leaves', async () => {
    const base = `http://127.0.0.1:${tracker.address().port}`
    const hostile = `<!doctype html><html><head>
      <meta http-equiv="refresh" content="0;url=${base}/refresh">
      <link rel="stylesheet" href="${base}/style.css">
      <script>fetch('${base}/script'); document.title = 'ran'</script>
      </head><body onload="fetch('${base}/onload')">
      <p id="content">An innocent page</p>
      <script>document.getElementById('content').textContent = 'SCRIPT RAN'</script>
      <img src="${base}/pixel.png"><iframe src="${base}/frame"></iframe>
      <form action="${base}/form"><button id="go">go</button></form>
      <script>new Image().src = '${base}/image'</script>
      </body></html>`
    await page.getByTestId('ws-upload').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from(hostile) })
    await entry('page.html').waitFor()
    await assertInert(page, base)
    saveArtifact('workspace.png', (await page.screenshot({ fullPage: true })).toString('base64'))
    // The preview's own locks (sandbox, the frame's policy, no refresh) hold without the app's CSP too.
    const bare = await ui.open(sidecar.config, `/#/workspace?agent=${agent.id}`)
    await assertInert(bare, base)
    await bare.close()
  })

  it('renames a file into a folder', async () => {
    await entry('notes.md').hover()
    await entry('notes.md').getByTestId('ws-rename').click()
    await page.getByTestId('ws-rename-input').fill('docs/readme.md')
    await page.getByTestId('ws-rename-save').click()
    await entry('docs/readme.md').waitFor()
    assert.equal(await entry('notes.md').count(), 0)
  })

  it('deletes to the trash and restores', async () => {
    await entry('docs/readme.md').hover()
    await entry('docs/readme.md').getByTestId('ws-delete').click()
    const trashed = page.locator('[data-testid="ws-trash-item"][data-path="docs/readme.md"]')
    await trashed.waitFor()
    await entry('docs/readme.md').waitFor({ state: 'detached' })
    await trashed.getByTestId('ws-restore').click()
    await entry('docs/readme.md').waitFor()
    await trashed.waitFor({ state: 'detached' })
    await entry('docs/readme.md').getByTestId('ws-open').click()
    assert.equal(await page.locator('[data-testid="ws-preview-markdown"] strong').textContent(), 'tomatoes')
    saveArtifact('workspace-markdown.png', (await page.screenshot({ fullPage: true })).toString('base64'))
  })

  it('opens a file from a link (as a chat tool card does), and the nav link keeps the agent', async () => {
    await page.goto(`${ui.origin}/#/chat`)
    await page.goto(`${ui.origin}/#/workspace?agent=${agent.id}&path=garden/plan.txt`)
    assert.equal(await page.getByTestId('ws-preview-text').textContent(), 'north bed: beans')
    await page.getByTestId('nav-workspace').click()
    await entry('garden/plan.txt').waitFor()
    assert.equal(await page.getByTestId('ws-agent').getAttribute('data-value'), agent.id)
  })
})
