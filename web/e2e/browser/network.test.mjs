// Browser E2E of Settings → Network against the real sidecar: a custom proxy (an HTTP proxy on
// loopback written here, counting what it forwards) is set in the UI, a provider's Test
// connection goes through it, and with the proxy gone the test says the proxy is at fault.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, request } from 'node:http'

import { saveArtifact, startScriptedProvider, startSidecar, startUi } from '../support.mjs'

/** A forwarding HTTP proxy: absolute-form requests (`GET http://host:port/path`) are relayed. */
function startProxy() {
  const forwarded = []
  const server = createServer((req, res) => {
    forwarded.push(`${req.method} ${req.url}`)
    const target = new URL(req.url)
    const upstream = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, forwarded, port: server.address().port })))
}

describe('Settings → Network in a real browser', { timeout: 120_000 }, () => {
  let ui, sidecar, model, proxy, page

  before(async () => {
    proxy = await startProxy()
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin })
    await sidecar.api('POST', '/api/providers', { name: 'Scripted', kind: 'openai', base_url: model.baseUrl, default_model: 'scripted-1' })
    page = await ui.open(sidecar.config, '/#/settings')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
    proxy?.server.closeAllConnections()
    proxy?.server.close()
  })

  const verdict = () => page.getByTestId('verdict').first()

  it('sends a provider call through the proxy set in the UI', async () => {
    await page.getByTestId('network-mode-custom').check()
    await page.getByTestId('network-proxy-url').fill(`http://127.0.0.1:${proxy.port}`)
    await page.getByTestId('network-bypass').fill('') // the scripted model is on loopback too
    await page.getByTestId('network-save').click()
    await page.getByTestId('network-saved').waitFor()
    assert.equal((await sidecar.api('GET', '/api/network')).mode, 'custom')

    await page.getByTestId('test-provider').first().click()
    await page.waitForFunction(() => document.querySelector('[data-testid="verdict"]')?.textContent?.includes('Connected'))
    assert.equal((await verdict().textContent()).trim(), 'Connected · 1 models')
    assert.deepEqual(proxy.forwarded, [`GET ${model.baseUrl}/models`])
    await page.getByTestId('network-settings').evaluate((el) => el.scrollIntoView())
    saveArtifact('network-settings.png', (await page.screenshot()).toString('base64'))
  })

  it('says the proxy is at fault when it is gone', async () => {
    proxy.server.closeAllConnections()
    await new Promise((resolve) => proxy.server.close(resolve))
    await page.getByTestId('test-provider').first().click()
    await page.waitForFunction(() => document.querySelector('[data-testid="verdict"]')?.textContent?.includes('proxy'))
    assert.equal((await verdict().textContent()).trim(), 'The proxy cannot be reached (Settings → Network).')
  })
})
