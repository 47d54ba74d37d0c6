import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { WorkspacePreview as Preview } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

// pdf.js itself does not run in jsdom: a fake library stands in for what loadPdfjs gives.
const lib = vi.hoisted(() => ({ getDocument: vi.fn() }))
vi.mock('@/composables/pdfjs', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/composables/pdfjs')>()),
  loadPdfjs: async () => lib,
}))
const api = vi.hoisted(() => ({ raw: vi.fn(), download: vi.fn() }))
vi.mock('@/api', () => ({ workspaces: api }))

import PdfPreview from './PdfPreview.vue'
import WorkspacePreview from './WorkspacePreview.vue'

const i18n = (locale: string) => createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })

/** A document of `pages` pages of 600×800 points whose pages record their renders. */
function fakeDocument(pages: number) {
  const render = vi.fn(() => ({ promise: Promise.resolve(), cancel: vi.fn() }))
  const page = { getViewport: ({ scale }: { scale: number }) => ({ width: 600 * scale, height: 800 * scale }), render }
  const destroy = vi.fn(async () => {})
  lib.getDocument.mockReturnValue({ promise: Promise.resolve({ numPages: pages, getPage: vi.fn(async () => page) }), destroy })
  return { render, destroy }
}

function failing(name: string) {
  const error = Object.assign(new Error(`${name}: no`), { name })
  lib.getDocument.mockReturnValue({ promise: Promise.reject(error), destroy: vi.fn(async () => {}) })
}

const show = (locale = 'en') =>
  mount(PdfPreview, { props: { data: new Blob(['%PDF-1.4']), name: 'report.pdf' }, global: { plugins: [i18n(locale)] } })

beforeEach(() => {
  lib.getDocument.mockReset()
  Object.values(api).forEach((fn) => fn.mockReset())
})

describe('PdfPreview', () => {
  it('opens the bytes with nothing evaluated, counts the pages and paints the first ones into canvases', async () => {
    const { render } = fakeDocument(5)
    const wrapper = show()
    await flushPromises()
    const params = lib.getDocument.mock.calls[0][0]
    expect(params).toMatchObject({ isEvalSupported: false, useWasm: false, useWorkerFetch: false })
    expect(params.data).toBeInstanceOf(Uint8Array)
    expect(wrapper.find('[data-testid="pdf-pages"]').text()).toBe('5 pages')
    expect(wrapper.findAll('[data-testid="pdf-canvas"]')).toHaveLength(5)
    // No IntersectionObserver in jsdom: the first pages are painted, the rest wait.
    expect(render).toHaveBeenCalledTimes(3)
    const first = (render.mock.calls[0] as unknown[])[0] as { canvas: HTMLCanvasElement; viewport: { width: number } }
    expect(first.canvas).toBe(wrapper.find('[data-page="1"] canvas').element)
    expect(first.viewport.width).toBe(600)
  })

  it('zooms in and out by steps and paints again at the new scale', async () => {
    const { render } = fakeDocument(1)
    const wrapper = show()
    await flushPromises()
    expect(wrapper.find('[data-testid="pdf-zoom"]').text()).toBe('100%')
    await wrapper.find('[data-testid="pdf-zoom-in"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="pdf-zoom"]').text()).toBe('110%')
    expect((render.mock.calls.at(-1) as unknown[])[0]).toMatchObject({ viewport: { width: 660 } })
    expect(wrapper.find('[data-page="1"]').attributes('style')).toContain('width: 660px')
    await wrapper.find('[data-testid="pdf-zoom-out"]').trigger('click')
    await wrapper.find('[data-testid="pdf-zoom-out"]').trigger('click')
    expect(wrapper.find('[data-testid="pdf-zoom"]').text()).toBe('90%')
  })

  it.each([
    ['PasswordException', 'encrypted', 'protected by a password', '受密码保护'],
    ['InvalidPDFException', 'damaged', 'could not be read', '无法读取'],
    ['UnknownErrorException', 'damaged', 'could not be read', '无法读取'],
  ])('says what is wrong with a file pdf.js refuses (%s)', async (name, failure, english, chinese) => {
    vi.spyOn(console, 'warn').mockImplementation(() => {}) // a damaged file is logged
    failing(name)
    const wrapper = show()
    await flushPromises()
    const notice = wrapper.find('[data-testid="pdf-error"]')
    expect(notice.attributes('data-failure')).toBe(failure)
    expect(notice.text()).toContain(english)
    expect(wrapper.find('[data-testid="pdf-pages"]').exists()).toBe(false)
    failing(name)
    const translated = show('zh')
    await flushPromises()
    expect(translated.find('[data-testid="pdf-error"]').text()).toContain(chinese)
  })

  it('lets the document (and its worker) go when the preview closes', async () => {
    const { destroy } = fakeDocument(2)
    const wrapper = show()
    await flushPromises()
    wrapper.unmount()
    await flushPromises()
    expect(destroy).toHaveBeenCalled()
  })
})

describe('WorkspacePreview of a PDF', () => {
  const preview: Preview = {
    path: 'report.pdf', name: 'report.pdf', size: 900, modified: '2026-11-30T00:00:00Z', content_type: 'application/pdf',
    preview: 'pdf', language: null, text: null, table: null, truncated: false, error: null,
  }

  it('draws it with pdf.js, in no frame, with Download beside it', async () => {
    fakeDocument(2)
    api.raw.mockResolvedValue(new Blob(['%PDF-1.4'], { type: 'application/pdf' }))
    const wrapper = mount(WorkspacePreview, { props: { agentId: 'a1', preview }, global: { plugins: [i18n('en')] } })
    await vi.waitFor(async () => {
      await flushPromises()
      expect(wrapper.find('[data-testid="pdf-pages"]').exists()).toBe(true)
    })
    expect(wrapper.find('iframe').exists()).toBe(false)
    expect(wrapper.find('[data-testid="ws-download"]').exists()).toBe(true)
  })

  it('does not load a PDF bigger than the preview limit', () => {
    mount(WorkspacePreview, { props: { agentId: 'a1', preview: { ...preview, size: 30 * 1024 * 1024 } }, global: { plugins: [i18n('en')] } })
    expect(api.raw).not.toHaveBeenCalled()
    expect(lib.getDocument).not.toHaveBeenCalled()
  })
})
