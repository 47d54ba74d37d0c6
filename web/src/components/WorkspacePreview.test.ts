import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { WorkspacePreview as Preview } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ raw: vi.fn(), download: vi.fn() }))
vi.mock('@/api', () => ({ workspaces: api }))

import WorkspacePreview from './WorkspacePreview.vue'

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })
const preview = (fields: Partial<Preview>): Preview => ({
  path: 'f', name: 'f', size: 10, modified: '2026-11-30T00:00:00Z', content_type: 'text/plain', preview: 'text',
  language: null, text: null, table: null, truncated: false, error: null, ...fields,
})
const show = (fields: Partial<Preview>) =>
  mount(WorkspacePreview, { props: { agentId: 'a1', preview: preview(fields) }, global: { plugins: [i18n] } })

beforeEach(() => Object.values(api).forEach((fn) => fn.mockReset()))

describe('WorkspacePreview', () => {
  it('renders Markdown sanitised and code highlighted, never raw HTML from the file', () => {
    const md = show({ preview: 'markdown', text: '# Title\n\n<img src=x onerror=alert(1)>' })
    expect(md.find('[data-testid="ws-preview-markdown"] h1').text()).toBe('Title')
    expect(md.find('img').exists()).toBe(false) // shown as text, never as an element
    const code = show({ preview: 'code', language: 'python', text: 'def f(): return "<b>"' })
    expect(code.find('[data-testid="ws-preview-code"] .hljs-keyword').exists()).toBe(true)
    expect(code.find('[data-testid="ws-preview-code"] b').exists()).toBe(false)
  })

  it('shows CSV as a table and a binary file as metadata only', () => {
    const csv = show({ preview: 'csv', table: { rows: [['a', 'b'], ['1', '2']], truncated: false } })
    expect(csv.findAll('th').map((c) => c.text())).toEqual(['a', 'b'])
    expect(csv.findAll('td').map((c) => c.text())).toEqual(['1', '2'])
    const binary = show({ preview: 'binary', size: 2048 })
    expect(binary.find('[data-testid="ws-preview-binary"]').exists()).toBe(true)
    expect(binary.text()).toContain('2 KB')
    expect(api.raw).not.toHaveBeenCalled()
  })

  it('shows HTML in a frame with every sandbox permission off and its own no-network policy', async () => {
    api.raw.mockResolvedValue(new Blob(['<script>parent.stolen = 1</script><p>hello</p>'], { type: 'text/html' }))
    const wrapper = show({ preview: 'html', path: 'page.html', name: 'page.html', content_type: 'text/html' })
    await flushPromises()
    const frame = wrapper.find('[data-testid="ws-preview-html"]')
    expect(frame.attributes('sandbox')).toBe('')
    expect(frame.attributes('src')).toBeUndefined()
    expect(frame.attributes('srcdoc')).toMatch(/^<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none';/)
    expect((window as unknown as { stolen?: number }).stolen).toBeUndefined()
  })

  it('does not load an image bigger than the preview limit', () => {
    show({ preview: 'image', size: 30 * 1024 * 1024, content_type: 'image/png' })
    expect(api.raw).not.toHaveBeenCalled()
  })
})
