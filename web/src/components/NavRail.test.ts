import { flushPromises, mount } from '@vue/test-utils'
import { beforeAll, describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { router } from '@/router'

import AgentAvatar from './AgentAvatar.vue'
import NavRail from './NavRail.vue'
import { installJsdomShims, press } from './ui/testing'

beforeAll(installJsdomShims)
const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en, zh } })

async function show(path: string) {
  await router.push(path)
  await router.isReady()
  return mount(NavRail, { global: { plugins: [i18n, router] }, attachTo: document.body })
}

describe('NavRail', () => {
  it('lists the screens from route meta, in order, each an SVG icon with a label; a shortcut in a tooltip', async () => {
    const rail = await show('/')
    const items = rail.findAll('a.rail-item')
    expect(items.map((a) => a.text())).toEqual([
      'Chat', 'Agents', 'Knowledge', 'Workspace', 'Prompts', 'Tasks', 'Skills', 'Settings', 'Status'])
    for (const a of items) expect(a.find('svg[aria-hidden="true"]').exists()).toBe(true)
    expect(rail.find('nav').attributes('aria-label')).toBe('Screens')
    // focused from the keyboard, Settings shows its shortcut; a label alone needs no tooltip
    const tooltip = () => document.querySelector('[data-testid="tooltip"]')
    await press('Tab')
    ;(items.find((a) => a.text() === 'Settings')?.element as HTMLElement).focus()
    await flushPromises()
    expect(tooltip()?.querySelector('kbd')?.textContent).toBe('Ctrl+,')
    ;(items[0].element as HTMLElement).focus()
    await flushPromises()
    expect(tooltip()).toBeNull()
    rail.unmount()
  })

  it('marks the current screen, a Settings section too, with aria-current', async () => {
    const rail = await show('/settings/network')
    const current = rail.findAll('[aria-current="page"]')
    expect(current.map((a) => a.attributes('data-testid'))).toEqual(['nav-settings'])
    await router.push('/')
    await rail.vm.$nextTick()
    expect(rail.findAll('[aria-current="page"]').map((a) => a.attributes('data-testid'))).toEqual(['nav-chat'])
  })

  it('speaks Chinese', async () => {
    i18n.global.locale.value = 'zh'
    const rail = await show('/')
    expect(rail.get('[data-testid="nav-settings"]').text()).toBe(zh.nav.settings)
    i18n.global.locale.value = 'en'
  })
})

describe('AgentAvatar', () => {
  it('draws the default avatar as an SVG, not an emoji, and a custom one as text', () => {
    const plain = mount(AgentAvatar, { props: { avatar: '🌿' } })
    expect(plain.find('svg').exists()).toBe(true)
    expect(plain.text()).toBe('')
    expect(mount(AgentAvatar, { props: { avatar: '' } }).find('svg').exists()).toBe(true)
    const custom = mount(AgentAvatar, { props: { avatar: '📚' } })
    expect(custom.find('svg').exists()).toBe(false)
    expect(custom.text()).toBe('📚')
  })
})
