// Visual comparison: every screen in light and dark, English and Chinese, against the real sidecar
// with fixed data, compared with the committed references in __screenshots__/ (pixelmatch); more
// than MAX_DIFF_RATIO of the pixels changed fails, with a diff image in test-artifacts/.
// `UPDATE_SCREENSHOTS=1 node --test e2e/browser/visual.test.mjs` (in web/) rewrites the references
// and the README's screenshots taken from them (look at them before committing). Kept stable by a fixed viewport, the bundled fonts
// (awaited with document.fonts.ready), animations, transitions and the caret off, and masks over what
// changes from run to run (data paths, sizes, times).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import pixelmatch from 'pixelmatch'
import { PNG } from 'pngjs'

import { saveArtifact, settle, startScriptedProvider, startSidecar, startUi } from '../support.mjs'

const REFERENCES = join(dirname(fileURLToPath(import.meta.url)), '__screenshots__')
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1'
const MAX_DIFF_RATIO = 0.005
// README screenshots (docs/screenshots/, paths the README links) refreshed from these references.
const README_SHOTS = { 'chat-dark-en': 'chat-dark.png', 'chat-light-zh': 'chat-zh.png', 'settings-dark-zh': 'settings-sections.png' }
const README_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots')
const VIEWPORT = { width: 1100, height: 700 }
const SCREENS = [
  ['chat', '/'],
  ['agents', '/agents'],
  ['knowledge', '/knowledge'],
  ['workspace', '/workspace'],
  ['prompts', '/prompts'],
  ['tasks', '/tasks'],
  ['skills', '/skills'],
  ['settings', '/settings/providers'],
  ['settings-knowledge', '/settings/knowledge'],
]
const STILL = `*, *::before, *::after { animation: none !important; transition: none !important; caret-color: transparent !important; }`
// What differs between runs with the same data: paths of the temp data dir, sizes, clocks, ids,
// the machine's cores (the embedder's threads).
const VOLATILE = ['[data-testid="data-location"]', '[data-testid="data-sizes"]', 'time', '.timing', '.meta-time', '[data-testid="ks-threads"]']

/** Compares a screenshot with its reference; writes the reference when updating or missing one. */
function compare(name, png) {
  const path = join(REFERENCES, `${name}.png`)
  if (UPDATE || !existsSync(path)) {
    mkdirSync(REFERENCES, { recursive: true })
    writeFileSync(path, png)
    if (README_SHOTS[name]) writeFileSync(join(README_DIR, README_SHOTS[name]), png)
    return null
  }
  const actual = PNG.sync.read(png)
  const expected = PNG.sync.read(readFileSync(path))
  if (actual.width !== expected.width || actual.height !== expected.height) return `${name}: size ${actual.width}×${actual.height}, reference ${expected.width}×${expected.height}`
  const diff = new PNG({ width: actual.width, height: actual.height })
  const changed = pixelmatch(actual.data, expected.data, diff.data, actual.width, actual.height, { threshold: 0.1 })
  const ratio = changed / (actual.width * actual.height)
  if (ratio <= MAX_DIFF_RATIO) return null
  saveArtifact(`visual-diff-${name}.png`, PNG.sync.write(diff).toString('base64'))
  return `${name}: ${(ratio * 100).toFixed(2)}% of the pixels changed (see test-artifacts/visual-diff-${name}.png)`
}

describe('visual comparison of every screen with the committed references', () => {
  let ui, sidecar, model

  before(async () => {
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    const provider = await sidecar.api('POST', '/api/providers', {
      name: 'Scripted', kind: 'openai', base_url: model.baseUrl, default_model: 'scripted-1',
    })
    const sage = (await sidecar.api('GET', '/api/agents')).find((a) => a.is_default)
    await sidecar.api('PATCH', `/api/agents/${sage.id}`, { provider_id: provider.id })
    await sidecar.api('POST', `/api/conversations/import?agent_id=${sage.id}`, {
      format: 'sage.conversation.v1', title: 'Plan a trip to Kyoto',
      messages: [
        { role: 'user', content: 'Three days in Kyoto in autumn: what should I see?' },
        { role: 'assistant', content: '**Day 1** — Fushimi Inari early, then Tofuku-ji for the maples.\n\n**Day 2** — Arashiyama: the bamboo grove, Okochi Sanso.\n\n```python\ndays = ["Fushimi", "Arashiyama", "Higashiyama"]\n```\n\n| day | area |\n|---|---|\n| 1 | south |\n| 2 | west |' },
      ],
    })
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  for (const theme of ['light', 'dark']) {
    for (const lang of ['en', 'zh']) {
      it(`${theme}, ${lang}: every screen matches its reference`, { timeout: 180_000 }, async () => {
        const page = await ui.browser.newPage({ locale: lang === 'zh' ? 'zh-CN' : 'en-US', viewport: VIEWPORT, deviceScaleFactor: 1 })
        await page.addInitScript(([value, t, l]) => {
          Object.defineProperty(window, '__SAGE__', { value: Object.freeze(value) })
          localStorage.setItem('sage.theme', t)
          localStorage.setItem('sage.locale', l)
        }, [sidecar.config, theme, lang])
        await page.emulateMedia({ colorScheme: theme, reducedMotion: 'reduce' })
        const failures = []
        try {
          for (const [screen, path] of SCREENS) {
            await page.goto(`${ui.origin}/#${path}`)
            await page.getByTestId('nav-rail').waitFor()
            await page.locator('[data-testid="connection-badge"], .badge').first().waitFor()
            if (screen === 'chat') {
              await page.locator('.conversation').first().click()
              await page.locator('[data-testid="message"][data-role="assistant"]').first().waitFor()
            }
            await settle(page)
            await page.addStyleTag({ content: STILL })
            await page.evaluate(() => document.fonts.ready)
            await page.mouse.move(0, VIEWPORT.height - 1) // no hover state
            await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : null))
            await page.waitForTimeout(200)
            const name = `${screen}-${theme}-${lang}`
            const mask = [...VOLATILE.map((s) => page.locator(s)), page.getByText(/127\.0\.0\.1:\d+/)] // the scripted provider's port
            // As Playwright's toHaveScreenshot does: a screen that differs is shot again after a
            // pause (a toast or a late list on a loaded machine), and only a lasting change fails.
            let failure = null
            for (let attempt = 0; attempt < 3; attempt++) {
              if (attempt) {
                await page.waitForTimeout(750)
                await settle(page)
              }
              const png = await page.screenshot({ mask, animations: 'disabled', caret: 'hide' })
              saveArtifact(`screen-${name}.png`, png.toString('base64'))
              failure = compare(name, png)
              if (!failure) break
            }
            if (failure) failures.push(failure)
          }
        } finally {
          await page.close()
        }
        assert.deepEqual(failures, [], `unintended visual changes (UPDATE_SCREENSHOTS=1 rewrites the references):\n${failures.join('\n')}`)
      })
    }
  }
})
