// Desktop E2E of a scheduled task's run in the real window (issue #15): a task created through the
// sidecar's API (the Tasks screen has its browser E2E) is run now against the scripted provider
// while Sage is hidden; the fake notification server of desktop-bus.mjs receives "Task finished:
// <name>", a click on it opens the run's conversation in the main window, and the run has a trace.
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { By } from 'selenium-webdriver'

import { LIMITS, launchApp, phase, shellConnection } from './app.mjs'
import { startDesktopBus } from './desktop-bus.mjs'
import { ROOT, saveArtifact, startScriptedProvider, waitFor } from '../support.mjs'

const APP = process.env.SAGE_APP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/sage-desktop')
// While developing, SAGE_E2E_SIDECAR_PYTHON runs the dev sidecar instead of the frozen build.
const DEV_SIDECAR = process.env.SAGE_E2E_SIDECAR_PYTHON ? { SAGE_SIDECAR_PYTHON: process.env.SAGE_E2E_SIDECAR_PYTHON } : {}
const REPLY = 'Two new files today: notes.md and plan.md.'

const find = async (driver, css) => (await driver.findElements(By.css(css)))[0]
const pageVisible = async (driver) => (await driver.executeScript('return document.visibilityState')) === 'visible'

describe('a scheduled task run in the desktop app', () => {
  let bus, model, app, main, api

  before(async () => {
    // The watcher and the notification server must be on the bus before the app starts.
    bus = await startDesktopBus()
    model = await startScriptedProvider()
    app = await launchApp(APP, { SAGE_DEMO_PROVIDER_URL: model.baseUrl, SAGE_AUTO_TITLE: '0', ...DEV_SIDECAR })
    main = await app.driver.getWindowHandle()
    await waitFor(async () => (await phase(app.driver)) === 'connected', { what: 'connected state' })
    const { apiBase, apiKey } = await shellConnection(app.driver)
    api = async (method, path, body) => {
      const response = await fetch(apiBase + path, {
        method, headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`)
      return response.json()
    }
  }, LIMITS.hook)
  after(async () => {
    await app?.close()
    app?.cleanup()
    model?.stop()
    bus?.stop()
  }, LIMITS.hook)

  it('run now while Sage is hidden: a notification naming the task, a click opens the run, a trace', LIMITS.test, async () => {
    const sage = (await api('GET', '/api/agents')).find((agent) => agent.is_default)
    const task = await api('POST', '/api/tasks', {
      name: 'Inbox digest', agent_id: sage.id, prompt: 'Summarise what is new in my inbox folder.',
      schedule: { kind: 'cron', expression: '0 8 * * 1-5' }, timezone: 'UTC', notify: true,
    })
    // Notifications are only for when no Sage window has the focus (composables/notifications.ts).
    await waitFor(() => bus.items().length > 0, { what: 'the tray registered' })
    await bus.click('Show/Hide window')
    await waitFor(async () => !(await pageVisible(app.driver)), { what: 'the main window hidden' })

    await model.script([{ chunks: ['Two new files today: ', 'notes.md and plan.md.'], delay_ms: 100 }])
    const before = bus.notifications().length
    const started = await api('POST', `/api/tasks/${task.id}/run`)
    const run = await waitFor(async () => {
      const [latest] = await api('GET', `/api/tasks/${task.id}/runs`)
      return latest?.id === started.id && latest.status === 'completed' && latest
    }, { what: 'the run completed', timeoutMs: 20_000 })
    assert.ok(run.conversation_id && run.message_id, JSON.stringify(run))

    const note = await waitFor(() => bus.notifications()[before], { what: 'a Notify call', timeoutMs: 15_000 })
    assert.equal(note.summary, 'Task finished: Inbox digest')
    assert.equal(bus.notifications().length, before + 1, 'one notification for one run')
    assert.ok(note.actions.includes('default'), `a click is offered: ${note.actions}`)

    // The run is traced: its model call, for the message the run wrote.
    const trace = await api('GET', `/api/messages/${run.message_id}/trace`)
    assert.equal(trace.id, run.trace_run_id)
    assert.equal(trace.kind, 'task')
    assert.equal(trace.conversation_id, run.conversation_id)
    const answer = trace.steps.find((step) => step.kind === 'model' && step.purpose === 'answer')
    assert.ok(answer, `an answer step: ${JSON.stringify(trace.steps.map(({ kind, purpose }) => [kind, purpose]))}`)
    assert.equal(answer.error, null)

    // Linux notification servers report clicks (ActionInvoked): the click opens that run's chat.
    await bus.clickNotification(note.id)
    await app.driver.switchTo().window(main)
    await waitFor(() => pageVisible(app.driver), { what: 'the main window shown by the click' })
    await waitFor(async () => {
      const last = (await app.driver.findElements(By.css('[data-testid="message"][data-role="assistant"]'))).at(-1)
      return last && (await last.getText()).includes(REPLY)
    }, { what: "the run's conversation open" })
    const prompt = await find(app.driver, '[data-testid="message"][data-role="user"]')
    assert.match(await prompt.getText(), /Summarise what is new in my inbox folder\./)
    saveArtifact('desktop-task-notification-opened.png', await app.driver.takeScreenshot())
  })
})
