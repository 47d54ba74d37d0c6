// Browser E2E of images and reasoning: an image pasted into the composer reaches the scripted
// provider as an OpenAI-compatible image_url part, shows as a thumbnail that opens full size, and
// the model's thinking shows collapsed under "Thinking", apart from the answer and its export.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startScriptedProvider, startSidecar, startUi, waitFor } from '../support.mjs'

// A 48×32 red PNG with a white square.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAAAW0lEQVR4nO3XsQnAMAwAQdl4DnsM79/ZY3iT9IHwhBRR8d8KxKFOZfUemap/A+4JogRRgqj2NJjnvN21x/iGiUh4IUGUIEoQJYgSRAmiBFHpQMVHERJECaLSgS4jYwVJgb5GgAAAAABJRU5ErkJggg=='

describe('images and reasoning in a real browser', { timeout: 120_000 }, () => {
  let ui, sidecar, model, page

  before(async () => {
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    await sidecar.api('POST', '/api/providers', {
      name: 'Scripted', kind: 'openai', base_url: model.baseUrl, api_key: 'k', default_model: 'scripted-1',
    })
    page = await ui.open(sidecar.config, '/')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  it('sends a pasted image as an image part and shows the reply\'s thinking collapsed', async () => {
    await model.script([{ reasoning: ['The picture is red ', 'with a white square.'], text: 'A red picture with a white square.', delay_ms: 30 }])
    const composer = page.getByTestId('composer')
    await composer.click()
    await page.evaluate((png) => {
      const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0))
      const data = new DataTransfer()
      data.items.add(new File([bytes], 'image.png', { type: 'image/png' }))
      const field = document.querySelector('[data-testid="composer"]')
      field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
    }, PNG)
    await page.locator('.composer [data-testid="image-thumb"] img').waitFor()
    await composer.fill('What is in this picture?')
    await composer.press('Enter')

    const reply = page.locator('[data-testid="message"][data-role="assistant"]').last()
    await reply.and(page.locator('[data-status="completed"]')).waitFor()
    assert.equal((await reply.getByTestId('message-text').textContent()).trim(), 'A red picture with a white square.')

    // The provider got the image as an image_url part of the user's message.
    const [request] = await model.recorded()
    const content = request.messages.at(-1).content
    assert.deepEqual(content[0], { type: 'text', text: 'What is in this picture?' })
    assert.equal(content[1].type, 'image_url')
    assert.match(content[1].image_url.url, /^data:image\/png;base64,/)

    // Thinking: collapsed, timed, apart from the answer.
    const thinking = reply.getByTestId('reasoning')
    assert.equal(await thinking.getAttribute('open'), null)
    assert.match(await thinking.locator('summary').textContent(), /^Thought for \d+ s$/)
    assert.equal(await reply.getByTestId('reasoning-text').isVisible(), false)
    await thinking.locator('summary').click()
    assert.equal(await reply.getByTestId('reasoning-text').textContent(), 'The picture is red with a white square.')

    // The sent message shows the image as a thumbnail that opens full size.
    const mine = page.locator('[data-testid="message"][data-role="user"]').last()
    await mine.locator('[data-testid="image-thumb"] img').waitFor()
    saveArtifact('images-reasoning.png', (await page.screenshot({ fullPage: true })).toString('base64'))
    await mine.getByTestId('image-thumb').click()
    const full = page.locator('[data-testid="image-full"][data-state="open"] img')
    await full.waitFor()
    assert.equal(await full.evaluate((img) => img.naturalWidth), 48)
    await page.getByTestId('image-close').click()
    await waitFor(async () => (await page.getByTestId('image-full').count()) === 0, { what: 'the full view to close' })

    // The export keeps the image and leaves the thinking out.
    const conversationId = (await sidecar.api('GET', '/api/conversations'))[0].id
    const exported = JSON.stringify(await sidecar.api('GET', `/api/conversations/${conversationId}/export`))
    assert.ok(exported.includes('data:image/png;base64,'))
    assert.ok(!exported.includes('The picture is red'))
  })
})
