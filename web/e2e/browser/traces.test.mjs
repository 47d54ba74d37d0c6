// Browser E2E of the trace viewer: a plan-mode reply from the real sidecar and the scripted
// provider; "Details" on it opens its run, with the hidden plan and self-check calls and the tool
// call on the timeline, the messages sent, the tool's raw result, and the totals.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startScriptedProvider, startSidecar, startUi } from '../support.mjs'

describe('trace viewer in a real browser', () => {
  let ui, sidecar, model, page

  before(async () => {
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    const provider = await sidecar.api('POST', '/api/providers', {
      name: 'Scripted', kind: 'openai', base_url: model.baseUrl, api_key: 'sk-e2e-planted-secret-0123456789', default_model: 'scripted-1',
    })
    const agents = await sidecar.api('GET', '/api/agents')
    const sage = agents.find((a) => a.is_default)
    await sidecar.api('PATCH', `/api/agents/${sage.id}`, { provider_id: provider.id, mode: 'plan', tools: ['calculator'] })
    page = await ui.open(sidecar.config, '/')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  it('opens Details on a reply and sees its steps', async () => {
    await model.script([
      { text: '{"steps": ["Compute 6*7"]}', usage: { prompt_tokens: 40, completion_tokens: 8 } },
      { tool_calls: [{ id: 'c1', name: 'calculator', arguments: '{"expression": "6*7"}' }] },
      { text: 'It is 42.', delay_ms: 150 },
      { text: '{"ok": true}' },
    ])
    await page.getByTestId('composer').fill('What is 6*7?')
    await page.getByTestId('composer').press('Enter')
    const reply = page.locator('[data-testid="message"][data-role="assistant"]').last()
    await reply.getByText('It is 42.').waitFor()
    await reply.getByTestId('details').click()

    await page.getByTestId('trace-view').waitFor()
    const steps = page.getByTestId('trace-step')
    await steps.first().waitFor()
    const labels = (await steps.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim())
    assert.deepEqual(labels, ['Plan (hidden)', 'Answer', 'calculator', 'Answer', 'Self-check (hidden)'])
    assert.equal(await page.getByTestId('trace-bar').count(), 5)
    assert.match(await page.getByTestId('trace-status').textContent(), /completed · plan-mode reply/)
    assert.match(await page.getByTestId('trace-cost').textContent(), /price unknown/)
    const totals = await page.getByTestId('trace-totals').textContent()
    await page.getByTestId('trace-conversation-total').waitFor()
    assert.match(await page.getByTestId('trace-conversation-total').textContent(), new RegExp(`${totals.trim()}\\s+· price unknown`))
    // The first step (the hidden plan call) is open: what was sent, redacted, and what came back.
    assert.match(await page.getByTestId('trace-messages').textContent(), /What is 6\*7\?/)
    assert.match(await page.getByTestId('trace-output').textContent(), /Compute 6\*7/)
    await steps.nth(2).click()
    assert.equal((await page.getByTestId('trace-tool-result').textContent()).trim(), '42')
    const shown = await page.getByTestId('trace-view').textContent()
    assert.ok(!shown.includes('sk-e2e-planted-secret'), 'the provider key is never shown')
    saveArtifact('trace-viewer.png', (await page.screenshot({ fullPage: true })).toString('base64'))
  })
})
