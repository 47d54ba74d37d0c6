// Browser E2E of the multilingual offline embedder: a new knowledge base on it, Chinese documents
// found by meaning in the search playground, the base's embedder shown and changed (which
// re-indexes), and Settings → Knowledge listing both offline embedders. The real sidecar runs
// the real models in its embedder processes; nothing leaves loopback.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { chooseOption, saveArtifact, startSidecar, startUi, waitFor } from '../support.mjs'

const MULTILINGUAL = 'local:use-multilingual-v3'
const MINILM = 'local:all-minilm-l6-v2'
const DOCS = {
  '番茄.md': '# 种植\n\n番茄喜欢充足的阳光。夏天每周深浇水两次，土壤保持湿润但不要积水。\n',
  '绿茶.md': '# 冲泡\n\n绿茶应该用八十度左右的热水冲泡，水太烫会让茶叶变苦，泡两三分钟即可。\n',
}

describe('a knowledge base on the multilingual offline embedder, in a real browser', () => {
  let ui, sidecar, page

  before(async () => {
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin })
    page = await ui.open(sidecar.config, '/#/knowledge')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
  })

  const base = () => sidecar.api('GET', '/api/knowledge/bases').then((bases) => bases[0])
  const ready = (name) => page.locator(`[data-testid="kb-file"][data-name="${name}"][data-status="ready"]`)

  it('creates a base on the multilingual model and shows which embedder it uses', async () => {
    await page.getByTestId('new-kb').click()
    await page.getByTestId('kb-name').fill('园艺')
    await chooseOption(page.getByTestId('kb-embedder'), { value: MULTILINGUAL })
    assert.match(await page.getByTestId('kb-embedder-hint').textContent(), /recommended for documents in Chinese/)
    await page.getByTestId('kb-save').click()
    await page.getByTestId('kb-detail').waitFor()
    assert.match(await page.getByTestId('kb-embedder-label').textContent(), /multilingual/)
    assert.equal((await base()).embedder, MULTILINGUAL)
  })

  it('finds a Chinese passage by meaning', async () => {
    await page.getByTestId('kb-upload').setInputFiles(
      Object.entries(DOCS).map(([name, text]) => ({ name, mimeType: 'text/markdown', buffer: Buffer.from(text) })),
    )
    for (const name of Object.keys(DOCS)) await ready(name).waitFor({ timeout: 90_000 })
    assert.equal((await base()).embedding_dim, 512)
    // 西红柿 is 番茄 and 灌溉 is 浇水: no word in common, found by the embedder.
    await page.getByTestId('kb-search-query').fill('西红柿多久灌溉一次？')
    await page.getByTestId('kb-search').click()
    const first = page.getByTestId('kb-hit').first()
    await first.waitFor()
    assert.match(await first.getByTestId('kb-hit-source').textContent(), /番茄\.md/)
    saveArtifact('knowledge-multilingual.png', (await page.screenshot({ fullPage: true })).toString('base64'))
  })

  it('changes the base to the English model, which re-indexes it', async () => {
    await chooseOption(page.getByTestId('kb-embedder-select'), { value: MINILM })
    assert.match(await page.getByTestId('kb-embedder-warning').textContent(), /re-indexes every document/)
    await page.getByTestId('kb-embedder-apply').click()
    await waitFor(async () => (await base()).embedder === MINILM, { what: 'the base to take the English model' })
    await waitFor(async () => (await base()).embedding_dim === 384 && (await base()).status === 'ready', { what: 'the re-index', timeoutMs: 90_000 })
    for (const name of Object.keys(DOCS)) await ready(name).waitFor({ timeout: 90_000 })
    assert.match(await page.getByTestId('kb-embedder-label').textContent(), /English \(MiniLM\)/)
  })

  it('Settings → Knowledge lists both offline embedders and their state', async () => {
    await page.goto(page.url().replace(/#.*$/, '#/settings/knowledge'))
    const row = (id) => page.locator(`[data-testid="ks-embedder"][data-id="${id}"]`)
    await row(MULTILINGUAL).waitFor()
    assert.match(await row(MULTILINGUAL).textContent(), /512 dimensions · Loaded/)
    assert.match(await row(MINILM).textContent(), /384 dimensions · Loaded/)
  })
})
