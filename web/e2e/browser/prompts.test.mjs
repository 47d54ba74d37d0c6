// Browser E2E of the prompt library against the real sidecar and the scripted provider: a prompt
// written on the Prompts screen is found with `/` in the composer and inserted with the keyboard;
// a shipped prompt's {{variables}} are filled in turn and the filled text is what the model gets.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startScriptedProvider, startSidecar, startUi } from '../support.mjs'

describe('the prompt library in a real browser', { timeout: 120_000 }, () => {
  let ui, sidecar, model, page

  before(async () => {
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
  })

  const composer = () => page.getByTestId('composer')

  it('writes a prompt on the Prompts screen and inserts it with / and Enter', async () => {
    await page.getByTestId('nav-prompts').click()
    await page.getByTestId('prompt-item').first().waitFor() // the shipped ones
    await page.getByTestId('prompt-new').click()
    await page.getByTestId('prompt-title').fill('Standup notes')
    await page.getByTestId('prompt-content').fill('Turn my notes into a standup update: yesterday, today, blockers.')
    await page.getByTestId('prompt-save').click()
    await page.getByTestId('prompt-item').filter({ hasText: 'Standup notes' }).waitFor()
    saveArtifact('prompts-screen.png', (await page.screenshot({ fullPage: true })).toString('base64'))

    await page.getByTestId('nav-chat').click()
    await composer().click()
    await composer().pressSequentially('/stdup')
    const options = page.getByTestId('prompt-option')
    await options.first().waitFor()
    assert.match(await options.first().textContent(), /Standup notes/)
    await composer().press('Enter')
    assert.equal(await composer().inputValue(), 'Turn my notes into a standup update: yesterday, today, blockers.')
    assert.equal(await page.getByTestId('prompt-picker').count(), 0)
  })

  it('fills a shipped prompt\'s variables in turn and sends the filled text', async () => {
    await composer().fill('')
    await composer().pressSequentially('/transl')
    await page.getByTestId('prompt-option').first().waitFor()
    saveArtifact('prompt-picker.png', (await page.screenshot()).toString('base64'))
    await composer().press('ArrowDown')
    await composer().press('ArrowUp')
    await composer().press('Enter')
    await page.getByTestId('prompt-var-0').waitFor()
    await page.keyboard.type('French')
    await page.keyboard.press('Enter')
    await page.keyboard.type('Good morning')
    await page.keyboard.press('Enter')
    const expected = 'Translate the following into French. Keep the tone, the formatting and any code or names unchanged; answer with the translation only.\n\nGood morning'
    assert.equal(await composer().inputValue(), expected)

    await model.script([{ text: 'Bonjour' }])
    await composer().press('Enter')
    await page.locator('[data-testid="message"][data-role="assistant"][data-status="completed"]').last().waitFor()
    assert.equal((await model.recorded()).at(-1).messages.at(-1).content, expected)
  })

  it('closes the picker on Escape and keeps what was typed', async () => {
    await composer().pressSequentially('/sum')
    await page.getByTestId('prompt-picker').waitFor()
    await composer().press('Escape')
    assert.equal(await page.getByTestId('prompt-picker').count(), 0)
    assert.equal(await composer().inputValue(), '/sum')
  })
})
