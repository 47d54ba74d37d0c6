import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { createI18n } from 'vue-i18n'
import { createMemoryHistory, createRouter } from 'vue-router'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import SettingsView from './SettingsView.vue'
import { filterSections, SETTINGS_SECTIONS } from './settingsSections'

// The section components talk to the sidecar; here each is a stub that names itself.
vi.mock('./settingsSections', async (importOriginal) => {
  const real = await importOriginal<typeof import('./settingsSections')>()
  const stub = (id: string) => async () => defineComponent({ render: () => h('p', { 'data-testid': `stub-${id}` }, id) })
  return { ...real, SETTINGS_SECTIONS: real.SETTINGS_SECTIONS.map((s) => ({ ...s, load: stub(s.id) })) }
})

const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })

async function show(path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/settings/:section?', component: SettingsView },
      { path: '/status', component: { render: () => null } },
    ],
  })
  await router.push(path)
  await router.isReady()
  const wrapper = mount(SettingsView, { global: { plugins: [i18n, router] } })
  await flushPromises()
  return { wrapper, router }
}

const listed = (w: Awaited<ReturnType<typeof show>>['wrapper']) =>
  w.findAll('[data-testid^="settings-section-"]').map((a) => a.attributes('data-testid')!.replace('settings-section-', ''))
const bodies = (w: Awaited<ReturnType<typeof show>>['wrapper']) => w.findAll('[data-section]').map((d) => d.attributes('data-section'))

describe('Settings sections', () => {
  it('lists every section; /settings shows them all, /settings/<id> only that one, marked current', async () => {
    const { wrapper } = await show('/settings')
    expect(listed(wrapper)).toEqual(['all', ...SETTINGS_SECTIONS.map((s) => s.id)])
    expect(bodies(wrapper)).toEqual(SETTINGS_SECTIONS.map((s) => s.id))
    const one = (await show('/settings/network')).wrapper
    expect(bodies(one)).toEqual(['network'])
    expect(one.find('[data-testid="stub-network"]').exists()).toBe(true)
    expect(one.findAll('[aria-current="page"]').map((a) => a.attributes('data-testid'))).toEqual(['settings-section-network'])
  })

  it('filters by label and keyword in English and in Chinese, whatever the UI language', async () => {
    const { wrapper } = await show('/settings')
    const search = wrapper.get('[data-testid="settings-search"]')
    await search.setValue('proxy')
    expect(listed(wrapper)).toEqual(['all', 'network'])
    expect(bodies(wrapper)).toEqual(['network'])
    await search.setValue('代理')
    expect(listed(wrapper)).toEqual(['all', 'network'])
    await search.setValue('keychain')
    expect(listed(wrapper)).toEqual(['all', 'privacy'])
    await search.setValue('chunk embedder')
    expect(listed(wrapper)).toEqual(['all', 'knowledge'])
    await search.setValue('分块')
    expect(listed(wrapper)).toEqual(['all', 'knowledge'])
    await search.setValue('nothing like this')
    expect(listed(wrapper)).toEqual(['all'])
    expect(wrapper.find('[data-testid="settings-no-match"]').text()).toBe('No section matches.')
  })

  it('speaks Chinese', async () => {
    i18n.global.locale.value = 'zh'
    const { wrapper } = await show('/settings')
    expect(wrapper.get('[data-testid="settings-section-providers"]').text()).toBe('服务商')
    expect(wrapper.get('[data-testid="settings-search"]').attributes('aria-label')).toBe('搜索设置')
    i18n.global.locale.value = 'en'
  })

  it('matches every word, folding case and accents', () => {
    const texts = (id: string) => (id === 'network' ? ['Réseau proxy'] : [id])
    expect(filterSections('RESEAU PROXY', texts).map((s) => s.id)).toEqual(['network'])
    expect(filterSections('reseau mcp', texts)).toEqual([])
    expect(filterSections('  ', texts)).toHaveLength(SETTINGS_SECTIONS.length)
  })
})
