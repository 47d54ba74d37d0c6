// Browser E2E of the chat: the built UI, the real sidecar, and our scripted provider, all on
// loopback. Everything a user does goes through the UI; the API is used only to set a tool.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { chooseOption, PYTHON, saveArtifact, startScriptedProvider, startSidecar, startUi, waitFor } from '../support.mjs'

describe('chat in a real browser', () => {
  let ui, sidecar, model, page

  before(async () => {
    ui = await startUi()
    model = await startScriptedProvider()
    sidecar = await startSidecar({ SAGE_CORS_ORIGINS: ui.origin, SAGE_AUTO_TITLE: '0' })
    page = await ui.open(sidecar.config, '/')
  })

  after(async () => {
    await ui?.close()
    sidecar?.stop()
    model?.stop()
  })

  const lastReply = () => page.locator('[data-testid="message"][data-role="assistant"]').last()

  async function send(text) {
    await page.getByTestId('composer').fill(text)
    await page.getByTestId('composer').press('Enter')
  }

  it('explains what to do on first run instead of failing', async () => {
    await page.getByTestId('onboarding').waitFor()
    await page.getByTestId('onboarding-settings').click()
    await page.getByTestId('no-providers').waitFor()
  })

  it('adds a provider in Settings and tests its connection', async () => {
    await page.getByTestId('provider-name').fill('Scripted')
    await page.getByTestId('provider-url').fill(model.baseUrl)
    await page.getByTestId('add-provider').click()
    await page.getByTestId('provider').filter({ hasText: 'Scripted' }).waitFor()
    await page.getByTestId('test-provider').click()
    assert.match(await page.getByTestId('verdict').textContent(), /Connected · 1 models/)
    // The default model is picked from what the test listed.
    await chooseOption(page.getByTestId('provider-default-model'), { value: 'scripted-1' })
    await waitFor(async () => (await sidecar.api('GET', '/api/providers'))[0].default_model === 'scripted-1', {
      what: 'the default model to be saved',
    })
    await page.getByTestId('provider').locator('.muted', { hasText: '· scripted-1' }).waitFor()
  })

  it('shows a readable error for a bad provider URL', async () => {
    await page.getByTestId('provider-name').fill('Broken')
    await page.getByTestId('provider-url').fill('not a url')
    await page.getByTestId('add-provider').click()
    // In words beside the field, not the pattern the sidecar checked it with.
    assert.equal(await page.locator('#provider-url-error').textContent(), 'Enter a URL that starts with http:// or https://')
    assert.equal(await page.getByTestId('provider-url').getAttribute('aria-invalid'), 'true')
    assert.equal(await page.getByTestId('provider-error').textContent(), 'Check the highlighted fields.')
  })

  it('adds MCP servers and shows their tools or a clear error', async () => {
    await page.getByTestId('mcp-name').fill('time')
    await page.getByTestId('mcp-command').fill(PYTHON)
    await page.getByTestId('mcp-args').fill('-m\nmcp_server_time\n--local-timezone\nUTC')
    await page.getByTestId('mcp-add').click()
    await page.getByTestId('mcp-server').filter({ hasText: 'mcp_server_time' }).waitFor()
    await page.getByTestId('mcp-name').fill('broken')
    await page.getByTestId('mcp-command').fill('/nonexistent/mcp-server')
    await page.getByTestId('mcp-add').click()
    const time = page.getByTestId('mcp-server').filter({ hasText: 'mcp_server_time' })
    await time.getByTestId('mcp-show-tools').click()
    await time.getByTestId('mcp-tools').getByText('mcp__time__get_current_time').waitFor()
    const broken = page.getByTestId('mcp-server').filter({ hasText: 'broken' })
    await broken.getByTestId('mcp-show-tools').click()
    const error = broken.getByTestId('mcp-error')
    assert.equal(await error.getByTestId('coded-error-text').textContent(), 'The command /nonexistent/mcp-server was not found.')
    assert.equal(await error.locator('pre').isVisible(), false) // the raw text waits behind Details
    await error.getByText('Details').click()
    assert.match(await error.locator('pre').textContent(), /failed to start/)
    saveArtifact('settings-mcp.png', (await page.screenshot({ fullPage: true })).toString('base64'))
    await broken.getByTestId('mcp-enabled').uncheck()
    await waitFor(async () => (await sidecar.api('GET', '/api/mcp-servers')).find((s) => s.name === 'broken').enabled === false, {
      what: 'the server to be disabled',
    })
  })

  it('streams a reply as it is written', async () => {
    await model.script([{ chunks: ['Hello ', 'from ', 'the ', 'scripted ', 'model.'], delay_ms: 400 }])
    await page.getByTestId('nav-chat').click()
    await send('Say hello')
    const reply = lastReply()
    await reply.locator('[data-testid="message-text"]', { hasText: 'Hello from' }).waitFor()
    assert.equal(await reply.getAttribute('data-status'), 'streaming') // seen mid-stream
    await page.locator('[data-testid="message"][data-role="assistant"][data-status="completed"]').waitFor()
    assert.equal((await reply.getByTestId('message-text').textContent()).trim(), 'Hello from the scripted model.')
    saveArtifact('chat-streamed.png', (await page.screenshot()).toString('base64'))
  })


  it('shows how long the reply took, groups the conversation under Today, and recalls sent text with ↑', async () => {
    const reply = lastReply()
    assert.match(await reply.getByTestId('timing').textContent(), /s to first token · [\d.]+ s/)
    await page.locator('[data-testid="conversation-group"][data-group="today"]').getByText('Say hello').waitFor()
    const composer = page.getByTestId('composer')
    await composer.fill('')
    await composer.press('ArrowUp')
    assert.equal(await composer.inputValue(), 'Say hello')
    await composer.press('ArrowDown')
    assert.equal(await composer.inputValue(), '')
  })
  it('switches the model of the open conversation and back to the agent\'s', async () => {
    const picker = page.getByTestId('model-picker')
    const conversationModel = async () =>
      (await sidecar.api('GET', '/api/conversations')).find((c) => c.title.startsWith('Say hello')).model
    await chooseOption(picker, { value: 'scripted-1' })
    await waitFor(async () => (await conversationModel()) === 'scripted-1', { what: 'the model to be saved' })
    await chooseOption(picker, { value: '' })
    await waitFor(async () => (await conversationModel()) === null, { what: 'the agent default again' })
  })

  it('attaches a file to a message, and the model reads it', async () => {
    await model.script([{ chunks: ['The code is 4711.'] }])
    await page.getByTestId('composer-attach').setInputFiles({
      name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nThe door code is 4711.'),
    })
    await page.locator('form.composer [data-testid="attachment"]', { hasText: 'notes.md' }).waitFor()
    await send('What is the door code?')
    await page.locator('[data-testid="message"][data-role="user"]').last().locator('[data-testid="attachment"]', { hasText: 'notes.md' }).waitFor()
    await lastReply().and(page.locator('[data-status="completed"]')).waitFor()
    const sent = (await model.recorded()).at(-1).messages.at(-1).content
    assert.match(sent, /What is the door code\?/)
    assert.match(sent, /<attachment name="notes.md">[\s\S]*The door code is 4711\./)
    assert.equal(await page.locator('form.composer [data-testid="attachment"]').count(), 0, 'the composer is cleared')
  })

  it('asks before a tool that writes, and shows the tool card', async () => {
    const agents = await sidecar.api('GET', '/api/agents')
    const sage = agents.find((a) => a.is_default)
    await sidecar.api('PATCH', `/api/agents/${sage.id}`, { tools: ['calculator', 'write_file'] })
    await model.script([
      { tool_calls: [{ id: 'w1', name: 'write_file', arguments: '{"path": "note.txt", "content": "hi"}' }] },
      { text: 'I saved the note.' },
    ])
    await send('Save a note')
    await page.getByTestId('approval').waitFor()
    saveArtifact('chat-approval.png', (await page.screenshot()).toString('base64'))
    await page.getByTestId('approve').click()
    await lastReply().getByTestId('message-text').filter({ hasText: 'I saved the note.' }).waitFor()
    const card = lastReply().locator('[data-testid="tool-card"][data-tool="write_file"]')
    await card.locator('summary').click()
    assert.match(await card.getByTestId('tool-result').textContent(), /wrote 2 bytes/)
  })

  it('stops a reply mid-stream and keeps what arrived', async () => {
    await model.script([{ chunks: Array.from({ length: 100 }, (_, i) => `w${i} `), delay_ms: 100 }])
    await send('Count slowly')
    await lastReply().getByTestId('message-text').filter({ hasText: 'w3 ' }).waitFor()
    await page.getByTestId('composer-stop').click()
    await page.locator('[data-testid="message"][data-role="assistant"][data-status="interrupted"]').waitFor()
    assert.match(await lastReply().getByTestId('message-error').textContent(), /Stopped by the user/)
    assert.ok((await lastReply().getByTestId('message-text').textContent()).includes('w3'))
  })

  it('regenerates the last reply', async () => {
    await model.script([{ text: 'A fresh answer.' }])
    await lastReply().getByTestId('regenerate').click()
    await lastReply().getByTestId('message-text').filter({ hasText: 'A fresh answer.' }).waitFor()
    assert.equal(await page.locator('[data-testid="message"][data-status="interrupted"]').count(), 0)
  })

  it('edits a question and resends it, replacing what followed', async () => {
    await model.script([{ text: 'Answer to the edited question.' }])
    const question = page.locator('[data-testid="message"][data-role="user"]').last()
    await question.getByTestId('edit').click()
    await question.getByTestId('edit-input').fill('Count quickly instead')
    await question.getByTestId('resend').click()
    await lastReply().getByTestId('message-text').filter({ hasText: 'Answer to the edited question.' }).waitFor()
    assert.equal((await question.getByTestId('message-text').textContent()).trim(), 'Count quickly instead')
    const sent = (await model.recorded()).at(-1).messages.at(-1)
    assert.deepEqual(sent, { role: 'user', content: 'Count quickly instead' })
  })

  it('says "rate limited, retrying in N s" while the provider asks to wait, then answers', async () => {
    await model.script([
      { error: { status: 429, message: 'slow down', headers: { 'Retry-After': '2' } } },
      { text: 'Worth the wait.' },
    ])
    await send('Are you busy?')
    const notice = lastReply().getByTestId('notice').filter({ hasText: 'Rate limited by the provider; retrying in 2 s.' })
    await notice.waitFor()
    await lastReply().getByTestId('message-text').filter({ hasText: 'Worth the wait.' }).waitFor()
    assert.equal(await lastReply().getByTestId('notice').count(), 0) // the answer came: the wait is history
    assert.equal((await model.recorded()).length, 2)
  })

  it('finds the conversation by message text', async () => {
    await page.getByTestId('search').fill('scripted model')
    const results = page.getByTestId('search-results')
    await results.getByText('Say hello').waitFor()
    await page.getByTestId('search').fill('')
    await page.getByTestId('conversations').waitFor()
  })

  it('renames the open conversation and exports it as Markdown and HTML', async () => {
    await page.getByTestId('conversation').filter({ hasText: 'Say hello' }).click()
    await page.getByTestId('rename').click()
    await page.getByTestId('rename-input').fill('Greetings')
    await page.getByTestId('rename-input').press('Enter')
    await page.getByTestId('conversation').filter({ hasText: 'Greetings' }).waitFor()
    const renamed = (await sidecar.api('GET', '/api/conversations')).map((c) => c.title)
    assert.ok(renamed.includes('Greetings'))
    await page.getByTestId('export').click()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-markdown').click()])
    assert.equal(download.suggestedFilename(), 'Greetings.md')
    await page.getByTestId('export').click()
    const [html] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-html').click()])
    assert.equal(html.suggestedFilename(), 'Greetings.html')
  })

  it('has keyboard shortcuts for search and a new chat', async () => {
    await page.keyboard.press('Control+k')
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'search')
    await page.keyboard.press('Control+n')
    await page.getByText('Ask anything').waitFor()
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'composer')
  })

  it('creates an agent with one tool and chats with it', async () => {
    await page.getByTestId('nav-agents').click()
    await page.getByTestId('new-agent').click()
    await page.getByTestId('agent-name').fill('Calculator')
    await page.getByTestId('tool-calculator').check()
    await page.getByTestId('save-agent').click()
    await page.getByTestId('agent').filter({ hasText: 'Calculator' }).waitFor()
    await page.getByTestId('nav-chat').click()
    await page.getByTestId('new-chat').click()
    await chooseOption(page.getByTestId('agent-picker'), { label: 'Calculator' })
    await model.script([
      { tool_calls: [{ id: 'c1', name: 'calculator', arguments: '{"expression": "6*7"}' }] },
      { text: 'It is 42.' },
    ])
    await send('What is 6*7?')
    await lastReply().getByTestId('message-text').filter({ hasText: 'It is 42.' }).waitFor()
    const offered = (await model.recorded())[0].tools.map((t) => t.function.name)
    assert.deepEqual(offered, ['calculator'])
    await lastReply().locator('[data-testid="tool-card"][data-tool="calculator"]').waitFor()
  })

  it('switches the theme', async () => {
    await chooseOption(page.getByTestId('theme'), { value: 'dark' })
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark')
    saveArtifact('chat-dark.png', (await page.screenshot()).toString('base64'))
    await chooseOption(page.getByTestId('theme'), { value: 'system' })
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme ?? null), null)
  })

  it('works in 中文 too', async () => {
    await chooseOption(page.getByTestId('language'), { value: 'zh' })
    assert.equal(await page.getByTestId('send').textContent(), '发送')
    saveArtifact('chat-zh.png', (await page.screenshot()).toString('base64'))
    await chooseOption(page.getByTestId('language'), { value: 'en' })
  })
})
