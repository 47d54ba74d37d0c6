// Delete with Undo against the real sidecar: a deleted conversation hides at once, a toast offers
// Undo (nothing is sent yet: it is still on the server), Undo brings it back; deleted again and left
// alone, the DELETE reaches the server after the delay. An empty list then teaches what it is for.
// Prompts, knowledge bases and skills are deleted the same way.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startSidecar, startUi, waitFor } from '../support.mjs'

describe('delete a conversation with Undo', () => {
  let ui, sidecar

  before(async () => {
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    const sage = (await sidecar.api('GET', '/api/agents')).find((a) => a.is_default)
    await sidecar.api('POST', `/api/conversations/import?agent_id=${sage.id}`, {
      format: 'sage.conversation.v1', title: 'Keep or drop', messages: [{ role: 'user', content: 'hello' }],
    })
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
  })

  it('hides it, offers Undo, and deletes it on the server only after the delay', { timeout: 60_000 }, async () => {
    const page = await ui.open(sidecar.config, '/')
    try {
      const item = page.locator('.conversation', { hasText: 'Keep or drop' })
      await item.waitFor()
      const onServer = async () => (await sidecar.api('GET', '/api/conversations')).some((c) => c.title === 'Keep or drop')

      await page.getByRole('button', { name: 'Delete' }).first().click()
      await item.waitFor({ state: 'detached' })
      const toast = page.getByTestId('toast')
      await toast.getByText('Conversation “Keep or drop” deleted').waitFor()
      assert.equal(await onServer(), true, 'nothing is deleted while Undo is offered')
      saveArtifact('undo-toast.png', (await page.screenshot()).toString('base64'))
      await toast.getByRole('button', { name: 'Undo' }).click()
      await item.waitFor()
      await page.waitForTimeout(5_500)
      assert.equal(await onServer(), true, 'Undo kept it')

      await page.getByRole('button', { name: 'Delete' }).first().click()
      await item.waitFor({ state: 'detached' })
      await waitFor(async () => !(await onServer()), { timeoutMs: 10_000, what: 'the DELETE after the undo delay' })
      await page.getByTestId('empty-state').getByText('No conversations yet').waitFor()
    } finally {
      await page.close()
    }
  })

  it('a prompt too: Undo keeps it, on screen and on the server', { timeout: 60_000 }, async () => {
    await sidecar.api('POST', '/api/prompts', { title: 'Undo me', description: '', content: 'text' })
    const page = await ui.open(sidecar.config, '/#/prompts')
    try {
      const item = page.getByTestId('prompt-item').filter({ hasText: 'Undo me' })
      await item.getByRole('button', { name: 'Delete' }).click()
      await item.waitFor({ state: 'detached' })
      await page.getByTestId('toast').getByRole('button', { name: 'Undo' }).click()
      await item.waitFor()
      await page.waitForTimeout(5_500)
      assert.ok((await sidecar.api('GET', '/api/prompts')).some((p) => p.title === 'Undo me'))
    } finally {
      await page.close()
    }
  })
  it('a knowledge base and a skill too: hidden at once, Undo keeps them, left alone they go', { timeout: 90_000 }, async () => {
    const base = await sidecar.api('POST', '/api/knowledge/bases', { name: 'Undo base' })
    const bases = async () => (await sidecar.api('GET', '/api/knowledge/bases')).map((b) => b.name)
    let page = await ui.open(sidecar.config, '/#/knowledge')
    try {
      const item = page.getByTestId('kb').filter({ hasText: 'Undo base' })
      await item.getByTestId('kb-open').click()
      await page.getByTestId('kb-delete').click() // no confirmation first: Undo instead
      await item.waitFor({ state: 'detached' })
      const toast = page.getByTestId('toast')
      await toast.getByText('Knowledge base “Undo base” deleted').waitFor()
      assert.ok((await bases()).includes('Undo base'), 'nothing is deleted while Undo is offered')
      await toast.getByRole('button', { name: 'Undo' }).click()
      await item.waitFor()
      await page.waitForTimeout(5_500)
      assert.ok((await bases()).includes('Undo base'), 'Undo kept it')
      await item.getByTestId('kb-open').click()
      await page.getByTestId('kb-delete').click()
      await waitFor(async () => !(await bases()).includes('Undo base'), { timeoutMs: 10_000, what: 'the DELETE after the delay' })
      assert.equal((await sidecar.api('GET', '/api/knowledge/bases')).some((b) => b.id === base.id), false)
    } finally {
      await page.close()
    }

    const skill = (await sidecar.api('GET', '/api/skills'))[0]
    const skills = async () => (await sidecar.api('GET', '/api/skills')).map((s) => s.id)
    page = await ui.open(sidecar.config, '/#/skills')
    try {
      await page.getByTestId(`skill-${skill.name}`).click()
      await page.getByTestId('skill-title').filter({ hasText: skill.name }).waitFor()
      await page.getByTestId('skill-delete').click()
      await page.getByTestId(`skill-${skill.name}`).waitFor({ state: 'detached' })
      await page.getByTestId('toast').getByText(`Skill “${skill.name}” deleted`).waitFor()
      assert.ok((await skills()).includes(skill.id), 'nothing is deleted while Undo is offered')
      await page.getByTestId('toast').getByRole('button', { name: 'Undo' }).click()
      await page.getByTestId(`skill-${skill.name}`).waitFor()
      await page.getByTestId('skill-delete').click()
      await waitFor(async () => !(await skills()).includes(skill.id), { timeoutMs: 10_000, what: 'the skill DELETE after the delay' })
    } finally {
      await page.close()
    }
  })
})
