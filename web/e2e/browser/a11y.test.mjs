// Accessibility audit of every screen against the real sidecar: axe-core (injected into the page by
// playwright-core) on each screen of the rail, in light and dark and in English and Chinese;
// 0 serious or critical violations (WCAG 2.1 A and AA: labels, contrast ≥ 4.5:1, names, ARIA).
// A screenshot of each lands in test-artifacts/ (a11y-<screen>-<theme>-<lang>.png).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import { saveArtifact, settle, startScriptedProvider, startSidecar, startUi } from '../support.mjs'

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const SCREENS = ['/', '/agents', '/knowledge', '/workspace', '/prompts', '/tasks', '/skills', '/settings', '/settings/providers', '/status']
const THEMES = ['light', 'dark']
const LANGS = ['en', 'zh']

describe('accessibility audit (axe-core) of every screen, both themes, both languages', () => {
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
    // A conversation to open: a question and a reply with Markdown (a list, code, a table).
    await sidecar.api('POST', `/api/conversations/import?agent_id=${sage.id}`, {
      format: 'sage.conversation.v1', title: 'Contrast check',
      messages: [
        { role: 'user', content: 'How do I list files?' },
        { role: 'assistant', content: 'Use **ls**:\n\n```sh\nls -la\n```\n\n```python\ndef size(path):\n    # bytes\n    return len(open(path).read()) + 42 if True else "none"\n```\n\n| flag | meaning |\n|---|---|\n| -l | long |\n\n1. one\n2. two' },
      ],
    })
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  /** axe's serious and critical violations on the page as it is, one line per element (for a
   *  contrast failure, with the colors and ratio axe measured, so a rare one can be traced). */
  async function audit(page) {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE })
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        resultTypes: ['violations'],
      })
      const measured = (n) => {
        const d = n.any?.[0]?.data
        return d && d.contrastRatio ? ` (${d.fgColor} on ${d.bgColor}: ${d.contrastRatio}:1, needs ${d.expectedContrastRatio})` : ''
      }
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary.split('\n').slice(1, 2).join('').trim()}${measured(n)}`) }))
    })
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  }

  for (const theme of THEMES) {
    for (const lang of LANGS) {
      it(`${theme}, ${lang}: 0 serious or critical violations on every screen`, { timeout: 180_000 }, async () => {
        const page = await ui.browser.newPage({ locale: lang === 'zh' ? 'zh-CN' : 'en-US', viewport: { width: 1280, height: 800 } })
        await page.addInitScript(([value, t, l]) => {
          Object.defineProperty(window, '__SAGE__', { value: Object.freeze(value) })
          localStorage.setItem('sage.theme', t)
          localStorage.setItem('sage.locale', l)
        }, [sidecar.config, theme, lang])
        await page.emulateMedia({ colorScheme: theme, reducedMotion: 'reduce' })
        const found = []
        try {
          for (const screen of SCREENS) {
            await page.goto(`${ui.origin}/#${screen}`)
            await page.getByTestId('nav-rail').waitFor()
            await page.locator('[data-testid="connection-badge"], .badge').first().waitFor()
            await settle(page)
            assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme)
            for (const v of await audit(page)) found.push({ screen, ...v })
            if (screen === '/status') {
              // The keyboard shortcuts sheet, opened with ?.
              await page.locator('body').press('?')
              await page.getByTestId('shortcuts-sheet').waitFor()
              for (const v of await audit(page)) found.push({ screen: `${screen} (the shortcuts sheet)`, ...v })
              saveArtifact(`a11y-shortcuts-${theme}-${lang}.png`, (await page.screenshot()).toString('base64'))
              await page.keyboard.press('Escape')
              await page.getByTestId('shortcuts-sheet').waitFor({ state: 'hidden' })
            }
            if (screen === '/settings/providers') {
              // An open select list (Reka's listbox, portalled to <body>).
              await page.getByTestId('provider-kind').click()
              await page.locator('[role="listbox"]').waitFor()
              for (const v of await audit(page)) found.push({ screen: `${screen} (an open select)`, ...v })
              saveArtifact(`a11y-select-${theme}-${lang}.png`, (await page.screenshot()).toString('base64'))
              await page.keyboard.press('Escape')
              await page.locator('[role="listbox"]').waitFor({ state: 'detached' })
              // A refused form: the field's sentence beside it, marked invalid.
              await page.getByTestId('provider-name').fill('Local')
              await page.getByTestId('provider-url').fill('localhost:11434')
              await page.getByTestId('add-provider').click()
              await page.locator('#provider-url-error').waitFor()
              for (const v of await audit(page)) found.push({ screen: `${screen} (a field error)`, ...v })
              saveArtifact(`a11y-field-error-${theme}-${lang}.png`, (await page.screenshot()).toString('base64'))
            }
            if (screen === '/') {
              // The chat with a conversation open: messages, the reply's Markdown, the actions.
              await page.locator('.conversation').first().click()
              await page.locator('[data-testid="message"][data-role="assistant"]').first().waitFor()
              for (const v of await audit(page)) found.push({ screen: '/ (a conversation)', ...v })
              saveArtifact(`a11y-conversation-${theme}-${lang}.png`, (await page.screenshot()).toString('base64'))
              // A tooltip, shown by keyboard focus (after a key press, focus() counts as the keyboard's).
              await page.keyboard.press('Shift')
              await page.getByTestId('list-toggle').focus()
              await page.getByTestId('tooltip').waitFor()
              for (const v of await audit(page)) found.push({ screen: '/ (a tooltip)', ...v })
              saveArtifact(`a11y-tooltip-${theme}-${lang}.png`, (await page.screenshot()).toString('base64'))
              // The `/` prompt picker: the composer as a combobox over a listbox of prompts.
              await page.getByTestId('composer').fill('/')
              await page.getByTestId('prompt-option').first().waitFor()
              for (const v of await audit(page)) found.push({ screen: '/ (the prompt picker)', ...v })
              await page.getByTestId('composer').press('Escape')
              await page.getByTestId('composer').fill('')
              await page.getByTestId('composer').blur()
            }
            const name = screen.replace(/^\/$/, 'chat').replace(/^\//, '').replace(/\//g, '-')
            saveArtifact(`a11y-${name}-${theme}-${lang}.png`, (await page.screenshot()).toString('base64'))
          }
        } finally {
          await page.close()
        }
        assert.deepEqual(found, [], JSON.stringify(found, null, 2))
      })
    }
  }
})
