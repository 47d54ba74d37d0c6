// The chat's conversation list collapses and comes back against the real sidecar: the header's
// button and Ctrl+B toggle it, the chat takes the width, the choice survives a reload, Ctrl+K brings
// it back to search, focus never vanishes with it, and a narrow window hides it until asked.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startSidecar, startUi, waitFor } from '../support.mjs'

describe('a collapsible conversation list', () => {
  let ui, sidecar

  before(async () => {
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    const sage = (await sidecar.api('GET', '/api/agents')).find((a) => a.is_default)
    await sidecar.api('POST', `/api/conversations/import?agent_id=${sage.id}`, {
      format: 'sage.conversation.v1', title: 'Collapse me', messages: [{ role: 'user', content: 'hello' }],
    })
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
  })

  it('hides and shows with the button and Ctrl+B, remembered across a reload', { timeout: 60_000 }, async () => {
    const page = await ui.open(sidecar.config, '/')
    try {
      await page.setViewportSize({ width: 1100, height: 700 })
      const list = page.locator('#conversation-list')
      const toggle = page.getByRole('button', { name: 'Conversation list' })
      const chatWidth = async () => (await page.locator('.chat-main').boundingBox()).width
      await list.getByText('Collapse me').waitFor()
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true')
      const narrowChat = await chatWidth()

      await toggle.click()
      await list.waitFor({ state: 'hidden' })
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false')
      await waitFor(async () => (await chatWidth()) > narrowChat + 200, { what: 'the chat taking the width' })
      saveArtifact('layout-list-hidden.png', (await page.screenshot()).toString('base64'))

      await page.reload()
      await page.getByTestId('composer').waitFor()
      await page.waitForTimeout(300)
      assert.equal(await list.isVisible(), false, 'still hidden after a reload')

      await page.keyboard.press('Control+k') // search brings the list back, focused
      await list.waitFor()
      await waitFor(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'search'), { what: 'search focused' })

      await page.keyboard.press('Control+b') // focus was in the list: it moves to the composer
      await list.waitFor({ state: 'hidden' })
      await waitFor(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'composer'), { what: 'composer focused' })
      await page.keyboard.press('Control+b')
      await list.waitFor()
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'composer')
    } finally {
      await page.close()
    }
  })

  it('a narrow window hides it until asked', { timeout: 60_000 }, async () => {
    const page = await ui.open(sidecar.config, '/')
    try {
      await page.setViewportSize({ width: 700, height: 700 })
      const list = page.locator('#conversation-list')
      await page.getByTestId('composer').waitFor()
      await page.waitForTimeout(300)
      assert.equal(await list.isVisible(), false)
      await page.getByRole('button', { name: 'Conversation list' }).click()
      await list.getByText('Collapse me').waitFor()
      await page.setViewportSize({ width: 1100, height: 700 })
      await list.getByText('Collapse me').waitFor() // wide again: shown, as chosen for wide windows
    } finally {
      await page.close()
    }
  })
})
