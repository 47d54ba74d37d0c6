// Browser E2E of knowledge bases: create one, add documents (a good one, a duplicate, a broken
// one), watch ingest finish live, search it, attach it to an agent, and get a cited answer from
// the scripted provider with the sources linked under the reply. The real sidecar embeds with
// its offline model; nothing leaves loopback.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startScriptedProvider, startSidecar, startUi, waitFor } from '../support.mjs'

const GUIDE = `# Garden guide

## Watering

Water tomato plants deeply twice a week, early in the morning, so the leaves dry before evening.

## Pruning

Remove the suckers that grow between the stem and a branch; they take energy from the fruit.
`

describe('knowledge bases in a real browser', () => {
  let ui, sidecar, model, page

  before(async () => {
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    await sidecar.api('POST', '/api/providers', { name: 'Scripted', kind: 'openai', base_url: model.baseUrl, default_model: 'scripted-1' })
    page = await ui.open(sidecar.config, '/#/knowledge')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  const file = (name) => page.locator(`[data-testid="kb-file"][data-name="${name}"]`)

  it('creates a knowledge base', async () => {
    await page.getByTestId('new-kb').click()
    await page.getByTestId('kb-name').fill('Garden')
    await page.getByTestId('kb-save').click()
    await page.getByTestId('kb-detail').getByText('Garden').waitFor()
  })

  it('ingests an uploaded document and shows it ready', async () => {
    await page.getByTestId('kb-upload').setInputFiles({ name: 'guide.md', mimeType: 'text/markdown', buffer: Buffer.from(GUIDE) })
    await file('guide.md').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 60_000 })
    assert.match(await file('guide.md').textContent(), /passages/)
  })

  it('says so when the same document is added again, and adds nothing', async () => {
    await page.getByTestId('kb-upload').setInputFiles({ name: 'copy.md', mimeType: 'text/markdown', buffer: Buffer.from(GUIDE) })
    assert.match(await page.getByTestId('kb-duplicate').textContent(), /guide\.md/)
    assert.equal(await page.getByTestId('kb-file').count(), 1)
  })

  it('fails a broken PDF with a readable reason and keeps the rest', async () => {
    await page.getByTestId('kb-upload').setInputFiles({ name: 'broken.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 not really') })
    await file('broken.pdf').and(page.locator('[data-status="failed"]')).waitFor({ timeout: 30_000 })
    assert.ok((await file('broken.pdf').getByTestId('kb-file-error').textContent()).length > 5)
    assert.equal(await file('guide.md').getAttribute('data-status'), 'ready')
  })

  it('finds passages in the search playground, with their source', async () => {
    await page.getByTestId('kb-search-query').fill('how often should I water tomatoes')
    await page.getByTestId('kb-search').click()
    const first = page.getByTestId('kb-hit').first()
    await first.waitFor()
    assert.match(await first.getByTestId('kb-hit-source').textContent(), /guide\.md/)
    assert.match(await first.textContent(), /twice a week/)
    saveArtifact('knowledge.png', (await page.screenshot({ fullPage: true })).toString('base64'))
  })

  it('answers from the knowledge base with linked citations', async () => {
    await page.getByTestId('nav-agents').click()
    await page.getByTestId('edit-agent').first().click()
    await page.getByTestId('agent-kb-Garden').check()
    await page.getByTestId('save-agent').click()
    await page.getByTestId('agent-form').waitFor({ state: 'detached' })

    await model.script([{ chunks: ['Water them deeply ', 'twice a week [1].'] }])
    await page.getByTestId('nav-chat').click()
    await page.getByTestId('composer').fill('How often do I water tomatoes?')
    await page.getByTestId('composer').press('Enter')
    const reply = page.locator('[data-testid="message"][data-role="assistant"][data-status="completed"]').last()
    await reply.waitFor()
    const sent = JSON.stringify(await model.recorded())
    assert.match(sent, /twice a week, early in the morning/, 'the provider was given the passage')

    await reply.locator('button.cite[data-cite="1"]').click()
    const source = reply.locator('[data-testid="source"][data-number="1"]')
    await source.waitFor()
    assert.match(await source.textContent(), /guide\.md/)
    saveArtifact('knowledge-cited-answer.png', (await page.screenshot()).toString('base64'))
  })
  it('Settings → Knowledge: the defaults a new base starts with, what is in use, each base\'s disk use', async () => {
    await page.goto(page.url().replace(/#.*$/, '#/settings/knowledge'))
    const section = page.getByTestId('knowledge-settings')
    await section.getByTestId('ks-bases').getByText('Garden').waitFor()
    const minilm = section.locator('[data-testid="ks-embedder"][data-id="local:all-minilm-l6-v2"]')
    assert.match(await minilm.getByTestId('ks-embedder-state').textContent(), /Loaded/) // it embedded the guide
    assert.match(await section.getByTestId('ks-retrieval').textContent(), /Hybrid · 5 passages per reply/)
    await section.getByTestId('ks-chunk-tokens').fill('120')
    await section.getByTestId('ks-chunk-overlap').fill('20')
    await section.getByTestId('ks-save').click()
    await section.getByTestId('ks-saved').waitFor()
    saveArtifact('settings-knowledge.png', (await page.screenshot()).toString('base64'))
    const saved = await sidecar.api('GET', '/api/knowledge/settings')
    assert.deepEqual(saved.defaults, { chunk_tokens: 120, chunk_overlap: 20 })

    await page.getByTestId('nav-knowledge').click()
    await page.getByTestId('new-kb').click()
    await waitFor(async () => (await page.getByTestId('kb-chunk-tokens').inputValue()) === '120', { what: 'the form to start from the saved default' })
  })
})
