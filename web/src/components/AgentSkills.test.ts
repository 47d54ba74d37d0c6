import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'

import { ApiError, type Skill } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

const api = vi.hoisted(() => ({ list: vi.fn(), ofAgent: vi.fn(), setForAgent: vi.fn() }))
vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, skills: api }))

import AgentSkills from './AgentSkills.vue'

const skill = (id: string, name: string) => ({ id, name, description: `${name} helps`, builtin: true, size: 1, file_count: 1 }) as Skill

function show(locale = 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  return mount(AgentSkills, { props: { agentId: 'a1' }, global: { plugins: [i18n] } })
}

beforeEach(() => {
  Object.values(api).forEach((fn) => fn.mockReset())
  api.list.mockResolvedValue([skill('s1', 'code-review'), skill('s2', 'email-reply')])
  api.ofAgent.mockResolvedValue({ agent_id: 'a1', skill_ids: ['s2'] })
})

describe('AgentSkills', () => {
  it('shows every skill, the agent\'s checked, and saves a change at once', async () => {
    const wrapper = show()
    await flushPromises()
    const box = (name: string) => wrapper.find<HTMLInputElement>(`[data-testid="agent-skill-${name}"]`)
    expect([box('code-review').element.checked, box('email-reply').element.checked]).toEqual([false, true])
    api.setForAgent.mockResolvedValue({ agent_id: 'a1', skill_ids: ['s2', 's1'] })
    await box('code-review').setValue(true)
    await flushPromises()
    expect(api.setForAgent).toHaveBeenCalledWith('a1', ['s2', 's1'])
    expect(wrapper.find('[data-testid="agent-skills-saved"]').exists()).toBe(true)
  })

  it('says why a save failed, in the reader\'s language, and shows what is saved', async () => {
    const wrapper = show('zh')
    await flushPromises()
    api.setForAgent.mockRejectedValue(new ApiError(422, 'no skill', 'skill.unknown_skills', { ids: ['s1'] }))
    await wrapper.find('[data-testid="agent-skill-code-review"]').setValue(true)
    await flushPromises()
    expect(wrapper.text()).toContain('没有 ID 为 s1 的技能')
    expect(wrapper.find<HTMLInputElement>('[data-testid="agent-skill-code-review"]').element.checked).toBe(false)
  })
})
