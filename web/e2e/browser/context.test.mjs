// Browser E2E of long conversations and model parameters: against a scripted model whose model
// list declares a 1,024-token context window, a long conversation typed in the composer gets the
// "earlier messages were left out" marker above the first message the model still got, every
// request the provider received fits the window, and a temperature set in the conversation's
// Parameters popover reaches the provider with the next message.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { chooseOption, saveArtifact, startScriptedProvider, startSidecar, startUi } from '../support.mjs'

const WINDOW = 1024
const words = (n, tag) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ')

describe('long conversations and model parameters in a real browser', { timeout: 180_000 }, () => {
  let ui, sidecar, model, page

  before(async () => {
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    // The model list declares the window (the scripted server is listening by now).
    await fetch(model.baseUrl.replace(/\/v1$/, '/__context'), {
      method: 'POST', body: JSON.stringify({ tokens: WINDOW }), headers: { 'Content-Type': 'application/json' },
    })
    await sidecar.api('POST', '/api/providers', {
      name: 'Scripted', kind: 'openai', base_url: model.baseUrl, api_key: 'k', default_model: 'scripted-1',
    })
    const [agent] = await sidecar.api('GET', '/api/agents')
    await sidecar.api('PATCH', `/api/agents/${agent.id}`, { max_tokens: 128 })
    page = await ui.open(sidecar.config, '/')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  async function say(text) {
    const replies = page.locator('[data-testid="message"][data-role="assistant"][data-status="completed"]')
    const before = await replies.count()
    const composer = page.getByTestId('composer')
    await composer.fill(text)
    await composer.press('Enter')
    await replies.nth(before).waitFor()
  }

  it('marks where a long conversation was cut and keeps every request within the window', async () => {
    for (let turn = 0; turn < 7; turn++) await say(`turn${turn} ${words(60, `t${turn}w`)}`)

    const marker = page.getByTestId('context-marker')
    await marker.waitFor()
    assert.match(await marker.textContent(), /Earlier messages were left out to fit the model's context — \d+ messages/)
    // It sits right above the first message the model still got: a user message, not the first.
    const next = marker.locator('xpath=following-sibling::*[1]')
    assert.equal(await next.getAttribute('data-role'), 'user')
    assert.doesNotMatch(await next.getByTestId('message-text').textContent(), /^turn0 /)
    saveArtifact('context-marker.png', (await page.screenshot({ fullPage: true })).toString('base64'))

    // The last request left the oldest turn out but kept the system prompt and the question.
    const last = (await model.recorded()).at(-1)
    assert.ok(!JSON.stringify(last.messages).includes('turn0 t0w0'), 'the oldest turn was still sent')
    assert.equal(last.messages[0].role, 'system')
    assert.match(last.messages.at(-1).content, /^turn6 /)
  })

  it("sends the conversation's own temperature to the provider", async () => {
    await page.getByTestId('params-toggle').click()
    await page.getByTestId('param-temperature').fill('0.35')
    await page.getByTestId('params-save').click()
    await page.getByTestId('params-popover').waitFor({ state: 'detached' })
    assert.equal((await page.getByTestId('params-toggle').textContent()).trim(), 'Parameters (1)')

    await model.script([{ text: 'Cooler now.' }])
    await say('and now?')
    const [request] = await model.recorded()
    assert.equal(request.temperature, 0.35)
    assert.equal(request.max_tokens, 128) // the agent's, not overridden
  })

  it("edits the agent's parameters and context policy in its form", async () => {
    const agentPage = await ui.open(sidecar.config, '/#/agents')
    await agentPage.getByTestId('edit-agent').first().click()
    const form = agentPage.getByTestId('agent-form')
    assert.equal(await form.getByTestId('param-max-tokens').inputValue(), '128') // what it has
    await form.getByTestId('param-top-p').fill('0.5')
    await form.getByTestId('param-stop').fill('END\n###')
    await chooseOption(form.getByTestId('param-reasoning-effort'), { value: 'high' })
    await chooseOption(form.getByTestId('agent-context-policy'), { value: 'summarise' })
    await form.getByTestId('save-agent').click()
    await form.waitFor({ state: 'detached' })
    const [agent] = await sidecar.api('GET', '/api/agents')
    assert.deepEqual(
      [agent.top_p, agent.stop, agent.reasoning_effort, agent.context_policy, agent.max_tokens],
      [0.5, ['END', '###'], 'high', 'summarise', 128],
    )
    await agentPage.close()
  })
})
