import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

import ConfirmHost from '@/components/ui/ConfirmHost.vue'
import { installJsdomShims } from '@/components/ui/testing'

import { confirmInDialog, externalUrlOf, installExternalLinks } from './externalLinks'

const t = (key: string, values?: Record<string, unknown>) => `${key}${values ? ` ${JSON.stringify(values)}` : ''}`
const BASE = 'tauri://localhost/index.html'

function link(href: string, inner = false): HTMLElement {
  const anchor = document.createElement('a')
  anchor.href = href
  anchor.textContent = 'x'
  document.body.append(anchor)
  if (!inner) return anchor
  const span = document.createElement('span')
  anchor.append(span)
  return span
}
const click = (element: Element) => {
  const event = new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 })
  element.dispatchEvent(event)
  return event
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

afterEach(() => {
  document.body.innerHTML = ''
})

describe('externalUrlOf', () => {
  it('finds the web address of a link, from the link or inside it', () => {
    expect(externalUrlOf(link('https://tauri.app/x'), BASE)?.href).toBe('https://tauri.app/x')
    expect(externalUrlOf(link('http://example.com/', true), BASE)?.href).toBe('http://example.com/')
  })

  it('leaves the app\'s own links, other schemes and non-links alone', () => {
    expect(externalUrlOf(link('#/settings'), BASE)).toBeNull()
    expect(externalUrlOf(link('mailto:a@b.c'), BASE)).toBeNull()
    expect(externalUrlOf(link('javascript:alert(1)'), BASE)).toBeNull()
    expect(externalUrlOf(link('http://localhost:1420/x'), 'http://localhost:1420/')).toBeNull()
    expect(externalUrlOf(document.body, BASE)).toBeNull()
    const download = link('http://127.0.0.1:4000/api/export') as HTMLAnchorElement
    download.download = 'export.json'
    expect(externalUrlOf(download, BASE)).toBeNull()
  })
})

describe('installExternalLinks in the desktop app', () => {
  it('opens an https link in the browser instead of following it', async () => {
    const open = vi.fn(async () => {})
    const confirm = vi.fn(async () => true)
    const remove = installExternalLinks(t, document, { tauri: true, open, confirm })
    const event = click(link('https://tauri.app/start/'))
    await tick()
    expect(event.defaultPrevented).toBe(true)
    expect(confirm).not.toHaveBeenCalled()
    expect(open).toHaveBeenCalledWith('https://tauri.app/start/')
    remove()
  })

  it('asks before plain http, and opens nothing when declined', async () => {
    const open = vi.fn(async () => {})
    const confirm = vi.fn(async () => false)
    const remove = installExternalLinks(t, document, { tauri: true, open, confirm })
    click(link('http://example.com/old'))
    await tick()
    expect(confirm).toHaveBeenCalledWith('http://example.com/old')
    expect(open).not.toHaveBeenCalled()
    confirm.mockResolvedValue(true)
    click(link('http://example.com/old'))
    await tick()
    await tick()
    expect(open).toHaveBeenCalledWith('http://example.com/old')
    remove()
  })

  it('does not touch internal links', async () => {
    const open = vi.fn(async () => {})
    const remove = installExternalLinks(t, document, { tauri: true, open })
    const event = click(link('#/agents'))
    await tick()
    expect(event.defaultPrevented).toBe(false)
    expect(open).not.toHaveBeenCalled()
    remove()
  })
})

describe('installExternalLinks in a browser', () => {
  it('lets the link open in a new tab without a way back into Sage', () => {
    const open = vi.fn(async () => {})
    const remove = installExternalLinks(t, document, { tauri: false, open })
    const anchor = link('https://tauri.app/') as HTMLAnchorElement
    const event = click(anchor)
    expect(event.defaultPrevented).toBe(false)
    expect(anchor.target).toBe('_blank')
    expect(anchor.rel).toBe('noopener noreferrer')
    expect(open).not.toHaveBeenCalled()
    remove()
  })
})

describe('confirmInDialog', () => {
  it("shows the address in the app's confirmation and answers with the button pressed", async () => {
    installJsdomShims()
    const host = mount(ConfirmHost, { attachTo: document.body })
    const answer = confirmInDialog(t)('http://example.com/old')
    await flushPromises()
    const dialog = document.querySelector('[data-testid="link-confirm"]') as HTMLElement
    expect(dialog.textContent).toContain('http://example.com/old')
    ;(document.querySelector('[data-testid="link-confirm-open"]') as HTMLElement).click()
    expect(await answer).toBe(true)
    expect(document.querySelector('[data-testid="link-confirm"]')).toBeNull()
    const declined = confirmInDialog(t)('http://example.com/old')
    await flushPromises()
    ;(document.querySelector('[data-testid="link-confirm-cancel"]') as HTMLElement).click()
    expect(await declined).toBe(false)
    host.unmount()
  })
})
