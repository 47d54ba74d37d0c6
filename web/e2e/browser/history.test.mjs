// Browser E2E of bringing history in and taking it out: a ChatGPT-shaped export with edited and
// regenerated branches is imported through the UI's dialog (preview first), against the real
// sidecar; the conversation shows the branch the user last saw, and exports as a page.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { ROOT, saveArtifact, startSidecar, startUi, waitFor } from '../support.mjs'

const CHATGPT = join(ROOT, 'src-python/tests/data/history_import/chatgpt_conversations.json')

describe('history import in a real browser', { timeout: 120_000 }, () => {
  let ui, sidecar, page

  before(async () => {
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    page = await ui.open(sidecar.config, '/')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
  })

  it('previews a ChatGPT export with branches, then imports it', async () => {
    await page.getByTestId('import-history').click()
    await page.getByTestId('history-file').setInputFiles(CHATGPT)
    const preview = page.getByTestId('history-preview')
    await preview.waitFor()
    assert.match(await preview.textContent(), /ChatGPT:\s*2 new conversations, 0 with new messages, 6 messages to import; 1 skipped/)
    assert.match(await page.getByTestId('history-branches').textContent(), /2 other branches/)
    assert.deepEqual(await page.getByTestId('history-item').allTextContents(), [
      '数学 help 🧮 · 4 · new', 'Empty · 0 · empty', 'Imported chat · 2 · new'])
    // The preview stored nothing.
    assert.deepEqual(await sidecar.api('GET', '/api/conversations'), [])
    await page.getByTestId('history-confirm').click()
    await page.getByTestId('import-done').waitFor()
    await page.getByTestId('conversation').filter({ hasText: '数学 help 🧮' }).waitFor()
  })

  it('shows the branch the user last saw, not the edited-away one', async () => {
    await page.getByTestId('conversation').filter({ hasText: '数学 help 🧮' }).click()
    const messages = page.getByTestId('message')
    await waitFor(async () => (await messages.count()) === 4, { what: 'the 4 imported turns' })
    const text = (await messages.allTextContents()).join('\n')
    assert.match(text, /What is 2\+2\? 二加二/)
    assert.match(text, /It sums to 6\./)
    assert.doesNotMatch(text, /left out|hidden thinking/)
  })

  it('re-importing the same file adds nothing', async () => {
    await page.getByTestId('import-history').click()
    await page.getByTestId('history-file').setInputFiles(CHATGPT)
    await page.getByTestId('history-preview').waitFor()
    assert.match(await page.getByTestId('history-preview').textContent(), /Nothing new to import/)
    assert.equal(await page.getByTestId('history-confirm').isDisabled(), true)
    await page.getByRole('button', { name: 'Cancel' }).click()
    assert.equal((await sidecar.api('GET', '/api/conversations')).length, 2)
  })

  it('exports the open conversation as a self-contained HTML page', async () => {
    await page.getByTestId('export').click()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-html').click()])
    assert.match(download.suggestedFilename(), /\.html$/)
  })

  it('previews another export for the docs screenshot (titles every font has)', async () => {
    const data = JSON.parse(readFileSync(CHATGPT, 'utf8'))
    const titles = ['Planning a week in Lisbon', 'Empty', 'Regex for ISO dates']
    data.forEach((c, i) => Object.assign(c, { id: `doc-${i}`, conversation_id: `doc-${i}`, title: titles[i] }))
    await page.getByTestId('import-history').click()
    await page.getByTestId('history-file').setInputFiles({ name: 'conversations.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(data)) })
    await page.getByTestId('history-item').filter({ hasText: 'Lisbon' }).waitFor()
    saveArtifact('history-import.png', (await page.getByTestId('history-import').screenshot()).toString('base64'))
    await page.getByRole('button', { name: 'Cancel' }).click()
  })
})
