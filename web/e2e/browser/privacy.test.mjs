// Browser E2E of stored secrets' encryption against the real sidecar: with no keychain (keyring's
// own "no backend") Settings → Privacy says plainly that API keys are stored unencrypted and why;
// the next start with a keychain (the tests-only file store) encrypts the key already stored, the
// page says so, and the key is no longer in the database file.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { saveArtifact, startSidecar, startUi } from '../support.mjs'

const KEY = `sk-e2e-planted-${Date.now()}`

function databaseBytes(dataDir) {
  return Buffer.concat(readdirSync(dataDir).filter((n) => n.startsWith('agent_platform.db'))
    .map((n) => readFileSync(join(dataDir, n))))
}

describe('stored secrets and the keychain in a real browser', () => {
  let ui, first, second, keys

  before(async () => {
    keys = mkdtempSync(join(tmpdir(), 'sage-e2e-keychain-'))
    ui = await startUi()
  })

  after(async () => {
    await ui?.close()
    second?.stop()
    first?.stop()
    if (keys) rmSync(keys, { recursive: true, force: true })
  })

  it('says secrets are stored unencrypted without a keychain, and encrypted once there is one', async () => {
    first = await startSidecar({
      SAGE_CORS_ORIGINS: ui.origin, SAGE_TEST_KEYCHAIN_FILE: '',
      PYTHON_KEYRING_BACKEND: 'keyring.backends.fail.Keyring',
    })
    await first.api('POST', '/api/providers', { name: 'Keyed', kind: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: KEY })
    const page = await ui.open(first.config, '/')
    await page.getByTestId('nav-settings').click()
    const plain = page.getByTestId('privacy-secrets-plain')
    await plain.waitFor()
    assert.match(await plain.textContent(), /stored unencrypted on this computer/)
    assert.match(await page.getByTestId('privacy-keychain-reason').textContent(), /Reason: no system keychain|Reason: no Secret Service/)
    await page.getByTestId('privacy-keychain-retry').waitFor()
    saveArtifact('privacy-secrets-plain.png', (await page.getByTestId('privacy-secrets').screenshot()).toString('base64'))
    await page.close()

    first.child.kill('SIGTERM')
    await new Promise((resolve) => first.child.once('exit', resolve))
    second = await startSidecar({
      SAGE_CORS_ORIGINS: ui.origin, SAGE_DATA_DIR: first.dataDir,
      SAGE_TEST_KEYCHAIN_FILE: join(keys, 'keychain.json'),
    })
    const again = await ui.open(second.config, '/')
    await again.getByTestId('nav-settings').click()
    const encrypted = again.getByTestId('privacy-secrets-encrypted')
    await encrypted.waitFor()
    assert.match(await encrypted.textContent(), /stored encrypted; their key is kept in test file/)
    assert.equal(await again.getByTestId('privacy-keychain-retry').count(), 0)
    saveArtifact('privacy-secrets-encrypted.png', (await again.getByTestId('privacy-secrets').screenshot()).toString('base64'))
    const [provider] = await second.api('GET', '/api/providers')
    assert.equal(provider.has_api_key, true)
    assert.equal(databaseBytes(first.dataDir).includes(KEY), false, 'the key is still in the database file')
    await again.close()
  })
})
