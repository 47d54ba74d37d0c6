import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { Attachment } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { installJsdomShims } from './ui/testing'

const image = vi.fn(async (id: string) => new Blob([id], { type: 'image/png' }))
vi.mock('@/api', () => ({ attachments: { image: (id: string) => image(id) } }))

const { default: ChatComposer } = await import('./ChatComposer.vue')
const { default: ImageThumbs } = await import('./ImageThumbs.vue')

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })
const global = { plugins: [i18n, createPinia()] } // the composer's prompt picker uses a store

function pasteEvent(files: File[]): Event {
  const event = new Event('paste', { bubbles: true, cancelable: true })
  Object.defineProperty(event, 'clipboardData', { value: { files } })
  return event
}

beforeEach(() => {
  image.mockClear()
  URL.createObjectURL = vi.fn(() => 'blob:thumb')
  URL.revokeObjectURL = vi.fn()
})

describe('composer images', () => {
  it('attaches a pasted image (named, since clipboards call every one image.png) and leaves text alone', async () => {
    const wrapper = mount(ChatComposer, { props: { modelValue: '', busy: false }, global })
    const textarea = wrapper.find('textarea').element
    const shot = new File(['x'], 'image.png', { type: 'image/png' })
    const pasted = pasteEvent([shot])
    textarea.dispatchEvent(pasted)
    expect(pasted.defaultPrevented).toBe(true)
    const [[files]] = wrapper.emitted('attach') as [[File[]]]
    expect(files).toHaveLength(1)
    expect(files[0].name).toMatch(/^pasted-.*\.png$/)
    expect(files[0].type).toBe('image/png')

    const text = pasteEvent([])
    textarea.dispatchEvent(text)
    expect(text.defaultPrevented).toBe(false)
    expect(wrapper.emitted('attach')).toHaveLength(1)
  })

  it('shows attached images as removable thumbnails and documents as chips', async () => {
    const pending: Attachment[] = [
      { id: 'i1', name: 'cat.png', size: 10, chars: 0, truncated: false, kind: 'image', mime: 'image/png', width: 4, height: 3 },
      { id: 'd1', name: 'notes.md', size: 20, chars: 20, truncated: false, kind: 'text', mime: null, width: null, height: null },
    ]
    const wrapper = mount(ChatComposer, { props: { modelValue: '', busy: false, attachments: pending }, global })
    await flushPromises()
    expect(wrapper.findAll('[data-testid="image-thumb"]')).toHaveLength(1)
    expect(wrapper.find('[data-testid="image-thumb"] img').attributes('src')).toBe('blob:thumb')
    expect(wrapper.findAll('[data-testid="attachment"]').map((c) => c.text())).toEqual([expect.stringContaining('notes.md')])
    await wrapper.find('.thumb-item .remove').trigger('click')
    expect(wrapper.emitted('detach')).toEqual([['i1']])
  })
})

describe('ImageThumbs', () => {
  it('loads each image once through the API and opens it full size on click', async () => {
    installJsdomShims()
    const wrapper = mount(ImageThumbs, { props: { images: [{ id: 'i1', name: 'cat.png' }] }, global, attachTo: document.body })
    await flushPromises()
    expect(image).toHaveBeenCalledExactlyOnceWith('i1')
    await wrapper.find('[data-testid="image-thumb"]').trigger('click')
    await flushPromises()
    const dialog = () => document.querySelector('[data-testid="image-full"]')
    expect(dialog()?.getAttribute('role')).toBe('dialog')
    expect(dialog()?.querySelector('img')?.getAttribute('alt')).toBe('cat.png')
    ;(document.querySelector('[data-testid="image-close"]') as HTMLElement).click()
    await flushPromises()
    expect(dialog()).toBeNull()
    wrapper.unmount()
  })
})
