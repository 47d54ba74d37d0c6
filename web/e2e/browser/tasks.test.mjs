// Browser E2E of scheduled tasks against the real sidecar and the scripted provider: a task is
// created with the schedule builder (a bad cron expression is refused with its translated
// message, a good one previews its next five times), run now, its result appears in the
// history, and the run opens as a chat and as a trace of kind "task run".
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { saveArtifact, startScriptedProvider, startSidecar, startUi } from '../support.mjs'

describe('scheduled tasks in a real browser', { timeout: 120_000 }, () => {
  let ui, sidecar, model, page

  before(async () => {
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    const provider = await sidecar.api('POST', '/api/providers', {
      name: 'Scripted', kind: 'openai', base_url: model.baseUrl, default_model: 'scripted-1',
    })
    const sage = (await sidecar.api('GET', '/api/agents')).find((a) => a.is_default)
    await sidecar.api('PATCH', `/api/agents/${sage.id}`, { provider_id: provider.id })
    page = await ui.open(sidecar.config, '/')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  it('creates a task with the schedule builder and previews its next runs', async () => {
    await page.getByTestId('nav-tasks').click()
    await page.getByTestId('tasks-view').waitFor()
    assert.match(await page.getByTestId('tasks-running-notice').textContent(), /Sage must be running/)
    await page.getByTestId('task-new').click()
    await page.getByTestId('task-name').fill('Inbox summary')
    await page.getByTestId('task-prompt').fill('Summarise what is new in my inbox folder.')
    await page.getByTestId('task-kind-cron').check()
    await page.getByTestId('task-cron').fill('every weekday')
    await page.getByText('is not a cron expression').waitFor()
    await page.getByTestId('task-cron').fill('0 8 * * 1-5')
    const preview = page.getByTestId('task-preview').locator('li')
    await preview.nth(4).waitFor()
    assert.equal(await preview.count(), 5)
    assert.match(await preview.first().textContent(), /08:00/) // in the browser's zone, as saved
    saveArtifact('tasks-form.png', (await page.screenshot({ fullPage: true })).toString('base64'))
    await page.getByTestId('task-save').click()
    const item = page.getByTestId('task-item').filter({ hasText: 'Inbox summary' })
    await item.waitFor()
    assert.match(await item.getByTestId('task-next').textContent(), /08:00/)
    const [task] = await sidecar.api('GET', '/api/tasks')
    assert.deepEqual(task.schedule, { kind: 'cron', expression: '0 8 * * 1-5' })
    assert.equal(task.timezone, await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone))
  })

  it('runs it now, shows the result in its history and opens the run as a chat and a trace', async () => {
    await model.script([{ text: 'Two new files: notes.md and plan.md.' }])
    const item = page.getByTestId('task-item').filter({ hasText: 'Inbox summary' })
    await item.getByTestId('task-run').click()
    const row = page.getByTestId('task-run-row').first()
    await row.getByTestId('task-run-status').filter({ hasText: 'completed' }).waitFor()
    await item.getByTestId('task-last').filter({ hasText: 'completed' }).waitFor()
    saveArtifact('tasks-history.png', (await page.screenshot({ fullPage: true })).toString('base64'))
    assert.equal((await model.recorded()).at(-1).messages.at(-1).content, 'Summarise what is new in my inbox folder.')

    await row.getByTestId('task-run-chat').click()
    const answer = page.locator('[data-testid="message"][data-role="assistant"][data-status="completed"]').last()
    await answer.waitFor()
    assert.match(await answer.textContent(), /Two new files: notes\.md and plan\.md\./)

    await page.getByTestId('nav-tasks').click()
    await page.getByTestId('task-item').filter({ hasText: 'Inbox summary' }).getByTestId('task-history').click()
    await page.getByTestId('task-run-row').first().getByTestId('task-run-trace').click()
    await page.getByTestId('trace-view').waitFor()
    assert.match(await page.getByTestId('trace-status').textContent(), /task run/)
  })

  it('pauses and resumes all tasks, and sets the grace window for missed runs', async () => {
    await page.getByTestId('nav-tasks').click()
    assert.equal(await page.getByTestId('tasks-grace').inputValue(), '60')
    await page.getByTestId('tasks-grace').fill('15')
    await page.getByTestId('tasks-grace').press('Enter')
    await page.getByTestId('tasks-grace').blur()
    for (let i = 0; i < 50 && (await sidecar.api('GET', '/api/tasks/settings')).grace_minutes !== 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.deepEqual(await sidecar.api('GET', '/api/tasks/settings'), { grace_minutes: 15 })
    await page.getByTestId('tasks-pause-all').click()
    await page.getByTestId('tasks-paused').waitFor()
    assert.deepEqual(await sidecar.api('GET', '/api/tasks/scheduler'), { paused: true })
    await page.getByTestId('tasks-pause-all').click()
    await page.getByTestId('tasks-paused').waitFor({ state: 'detached' })
    assert.deepEqual(await sidecar.api('GET', '/api/tasks/scheduler'), { paused: false })
  })
})
