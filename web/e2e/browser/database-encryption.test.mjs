// Browser E2E of the encrypted database option against the real sidecar: Settings → Privacy turns
// encryption on, the page says it happens at the next start (no shell to restart the engine in a
// browser), the next start converts the database (after a kill -9 of the first sidecar), and the
// page then says it is encrypted, with the conversations still there and the file unreadable as
// plain SQLite.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openSync, readSync, closeSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { saveArtifact, startSidecar, startUi } from '../support.mjs'

function header(path) {
  const fd = openSync(path, 'r')
  try {
    const bytes = Buffer.alloc(16)
    readSync(fd, bytes, 0, 16, 0)
    return bytes
  } finally {
    closeSync(fd)
  }
}

describe('the encrypted database option in a real browser', () => {
  let ui, first, second, keys
  const env = () => ({ SAGE_CORS_ORIGINS: ui.origin, SAGE_TEST_KEYCHAIN_FILE: join(keys, 'keychain.json') })

  before(async () => {
    keys = mkdtempSync(join(tmpdir(), 'sage-e2e-keychain-'))
    ui = await startUi()
    first = await startSidecar(env())
    await first.api('POST', '/api/conversations', { title: 'Plans for the garden' })
  })

  after(async () => {
    await ui?.close()
    second?.stop()
    first?.stop()
    if (keys) rmSync(keys, { recursive: true, force: true })
  })

  it('turns encryption on, and the next start encrypts the database', async () => {
    const page = await ui.open(first.config, '/')
    await page.getByTestId('nav-settings').click()
    const state = page.getByTestId('privacy-database-state')
    await state.waitFor()
    assert.match(await state.textContent(), /not encrypted/)
    await page.getByTestId('privacy-database-toggle').check()
    const pending = page.getByTestId('privacy-database-pending')
    await pending.waitFor()
    assert.match(await pending.textContent(), /will be encrypted.*next time Sage starts/s)
    saveArtifact('database-encryption-pending.png', (await page.getByTestId('privacy-database').screenshot()).toString('base64'))
    await page.close()

    const db = join(first.dataDir, 'agent_platform.db')
    assert.equal(header(db).toString('latin1'), 'SQLite format 3\0')
    first.child.kill('SIGKILL') // not even a clean shutdown
    second = await startSidecar({ ...env(), SAGE_DATA_DIR: first.dataDir })
    assert.notEqual(header(db).toString('latin1'), 'SQLite format 3\0')

    const again = await ui.open(second.config, '/')
    await again.getByTestId('nav-settings').click()
    const encrypted = again.getByTestId('privacy-database-state')
    await encrypted.waitFor()
    assert.match(await encrypted.textContent(), /The database is encrypted; its key is kept in test file/)
    assert.equal(await again.getByTestId('privacy-database-toggle').isChecked(), true)
    assert.equal(await again.getByTestId('privacy-database-pending').count(), 0)
    saveArtifact('database-encryption-on.png', (await again.getByTestId('privacy-database').screenshot()).toString('base64'))
    const titles = (await second.api('GET', '/api/conversations')).map((c) => c.title)
    assert.deepEqual(titles, ['Plans for the garden'])
    await again.close()
  })
})
