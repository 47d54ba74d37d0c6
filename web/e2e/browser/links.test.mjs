// Browser E2E: outside the desktop app a link in a reply opens in a new tab that cannot reach
// back into Sage (rel="noopener"), with no confirmation (that is the desktop's, for plain http).
// The desktop side (the system browser through the opener plugin) is e2e/desktop/comfort.test.mjs.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'

import { startScriptedProvider, startSidecar, startUi } from '../support.mjs'

describe('links in a reply, in a browser', () => {
  let ui, sidecar, model, page, site

  before(async () => {
    site = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<title>Elsewhere</title>elsewhere'))
    await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve))
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    const provider = await sidecar.api('POST', '/api/providers', {
      name: 'Scripted', kind: 'openai', base_url: model.baseUrl, default_model: 'scripted-1',
    })
    const sage = (await sidecar.api('GET', '/api/agents')).find((a) => a.is_default)
    await sidecar.api('PATCH', `/api/agents/${sage.id}`, { provider_id: provider.id })
    page = await ui.open(sidecar.config, '/')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
    site?.close()
  })

  it('opens a new tab without an opener, and Sage stays where it was', { timeout: 60_000 }, async () => {
    const address = `http://127.0.0.1:${site.address().port}/page`
    await model.script([{ text: `Read [this page](${address}).` }])
    await page.getByTestId('composer').fill('Where?')
    await page.getByTestId('composer').press('Enter')
    const link = page.locator(`[data-testid="message"][data-role="assistant"] a[href="${address}"]`)
    await link.waitFor()
    const before = page.url()
    const [tab] = await Promise.all([page.context().waitForEvent('page'), link.click()])
    await tab.waitForLoadState()
    assert.equal(tab.url(), address)
    assert.equal(await tab.evaluate(() => window.opener), null)
    assert.equal(page.url(), before)
    assert.equal(await page.getByTestId('link-confirm').count(), 0)
    await tab.close()
  })
})
