// Browser E2E of Settings → Data → Restore against the real sidecar: export everything from the
// UI, change the data, pick the zip under Restore (checked, summarised), start the sidecar again
// on the same data dir as the desktop app's restart does — the data is the export's, and the
// replaced data is in the safety copy. A zip that is not a Sage backup is refused with the reason.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { saveArtifact, startSidecar, startUi } from '../support.mjs'

describe('restore from an export in a real browser', { timeout: 180_000 }, () => {
  let ui, sidecar, page, dataDir, scratch

  before(async () => {
    ui = await startUi()
    dataDir = mkdtempSync(join(tmpdir(), 'sage-e2e-restore-'))
    scratch = mkdtempSync(join(tmpdir(), 'sage-e2e-restore-zip-'))
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_DATA_DIR: dataDir })
    page = await ui.open(sidecar.config, '/#/settings')
  })

  after(async () => {
    await ui?.close()
    sidecar?.child.kill('SIGKILL')
    for (const dir of [dataDir, scratch]) if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const agentNames = async (s) => (await s.api('GET', '/api/agents')).map((a) => a.name).sort()

  it('restores an export over changed data at the next start, keeping a safety copy', async () => {
    await sidecar.api('POST', '/api/agents', { name: 'In the backup' })
    const exported = await agentNames(sidecar)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-all').click()])
    const zip = join(scratch, 'backup.zip')
    await download.saveAs(zip)

    await sidecar.api('POST', '/api/agents', { name: 'Added after the backup' })
    assert.notDeepEqual(await agentNames(sidecar), exported)

    await page.getByTestId('restore-file').setInputFiles(zip)
    const summary = page.getByTestId('restore-summary')
    await summary.waitFor()
    assert.match(await summary.textContent(), new RegExp(`0 conversations, ${exported.length} agents`))
    assert.match(await page.getByTestId('restore-pending').textContent(), /the next time Sage/)
    saveArtifact('restore-pending.png', (await page.screenshot({ fullPage: true })).toString('base64'))
    assert.deepEqual(await sidecar.api('GET', '/api/system/restore'), { pending: true })

    // What the shell's restart does: the sidecar stops, a new one starts on the same data.
    sidecar.child.kill('SIGTERM')
    await new Promise((resolve) => sidecar.child.once('exit', resolve))
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_DATA_DIR: dataDir })
    assert.deepEqual(await agentNames(sidecar), exported)
    const [safety] = readdirSync(join(dataDir, 'backups')).filter((n) => n.startsWith('before-restore-'))
    assert.ok(safety && existsSync(join(dataDir, 'backups', safety, 'agent_platform.db')))

    page = await ui.open(sidecar.config, '/#/agents')
    await page.getByText('In the backup').first().waitFor()
    assert.equal(await page.getByText('Added after the backup').count(), 0)
  })

  it('refuses a zip that is not a Sage backup and says why', async () => {
    page = await ui.open(sidecar.config, '/#/settings')
    const notBackup = join(scratch, 'not-a-backup.zip')
    writeFileSync(notBackup, 'this is not a zip at all')
    await page.getByTestId('restore-file').setInputFiles(notBackup)
    const alert = page.getByTestId('restore').getByRole('alert')
    await alert.waitFor()
    assert.equal(await alert.textContent(), 'This file is not a zip.')
    assert.deepEqual(await sidecar.api('GET', '/api/system/restore'), { pending: false })
  })
})
