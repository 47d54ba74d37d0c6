// Browser E2E of the Skills screen against the real sidecar: import a skill's .zip (built here,
// wrapped in a top folder as shared skills are), read its rendered instructions and a resource,
// see a refused import explained in words, replace a skill of the same name after the question,
// and enable the skill on an agent's page (saved at once, as the sidecar then reports).
import { crc32 } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startSidecar, startUi } from '../support.mjs'

/** A .zip of `files` (path → text), stored uncompressed: enough for the sidecar's reader. */
function zip(files) {
  const locals = []
  const centrals = []
  let offset = 0
  for (const [path, text] of Object.entries(files)) {
    const name = Buffer.from(path)
    const data = Buffer.from(text)
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6)
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28); central.writeUInt32LE(offset, 42)
    locals.push(local, name, data)
    centrals.push(central, name)
    offset += local.length + name.length + data.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(centrals.length / 2, 8); end.writeUInt16LE(centrals.length / 2, 10)
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

const SKILL_MD = '---\nname: trip-planner\ndescription: Plan a trip day by day.\n---\n\n# Trip planner\n\nAlways list **three** options, then read `checklist.md`.\n'

describe('the Skills screen in a real browser', { timeout: 120_000 }, () => {
  let ui, sidecar, page, agent

  before(async () => {
    ui = await startUi()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    agent = await sidecar.api('POST', '/api/agents', { name: 'Planner' })
    page = await ui.open(sidecar.config, '/#/skills')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
  })

  const importZip = (name, files) =>
    page.getByTestId('skill-import-zip').setInputFiles({ name, mimeType: 'application/zip', buffer: zip(files) })

  it('lists the shipped skills and imports a .zip, then shows it rendered with its files', async () => {
    await page.getByTestId('skill-code-review').waitFor()
    await importZip('trip-planner.zip', { 'trip-planner/SKILL.md': SKILL_MD, 'trip-planner/checklist.md': 'Passport. Charger.' })
    await page.getByTestId('skill-notice').waitFor()
    assert.equal(await page.getByTestId('skill-title').textContent(), 'trip-planner')
    assert.equal(await page.getByTestId('skill-description').textContent(), 'Plan a trip day by day.')
    assert.equal(await page.locator('[data-testid="skill-instructions"] strong').textContent(), 'three')
    assert.equal(await page.locator('[data-testid="skill-instructions"] h1').textContent(), 'Trip planner')
    await page.getByTestId('skill-file-checklist.md').click()
    assert.equal(await page.locator('[data-testid="skill-file"] pre').textContent(), 'Passport. Charger.')
    saveArtifact('skills-screen.png', (await page.screenshot({ fullPage: true })).toString('base64'))
  })

  it('explains a refused import and asks before replacing a skill of the same name', async () => {
    await importZip('broken.zip', { 'SKILL.md': '# No front matter here' })
    const error = page.getByTestId('skill-error')
    await error.waitFor()
    assert.match(await error.textContent(), /SKILL\.md has no front matter/)

    await importZip('trip-planner.zip', { 'SKILL.md': SKILL_MD.replace('day by day', 'hour by hour') })
    await page.getByTestId('skill-taken').waitFor()
    assert.match(await page.getByTestId('skill-taken').textContent(), /“trip-planner” exists already/)
    await page.getByTestId('skill-replace').click()
    await page.getByTestId('skill-notice').waitFor()
    await page.waitForFunction(() => document.querySelector('[data-testid="skill-description"]')?.textContent === 'Plan a trip hour by hour.')
    const names = (await sidecar.api('GET', '/api/skills')).map((s) => s.name)
    assert.equal(names.filter((n) => n === 'trip-planner').length, 1)
  })

  it('enables the skill on an agent\'s page', async () => {
    await page.getByTestId('nav-agents').click()
    await page.getByTestId('agent').filter({ hasText: 'Planner' }).getByTestId('edit-agent').click()
    await page.getByTestId('agent-skill-trip-planner').check()
    await page.getByTestId('agent-skills-saved').waitFor()
    const skill = (await sidecar.api('GET', '/api/skills')).find((s) => s.name === 'trip-planner')
    assert.deepEqual((await sidecar.api('GET', `/api/agents/${agent.id}/skills`)).skill_ids, [skill.id])
    saveArtifact('agent-skills.png', (await page.getByTestId('agent-skills').screenshot()).toString('base64'))
  })
})
