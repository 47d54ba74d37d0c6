import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import type { Message, PlanStep } from '@/api'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'
import { placeholder } from '@/stores/chatReducer'

import MessageItem from './MessageItem.vue'

const i18n = createI18n({ legacy: false, locale: 'zh', fallbackLocale: 'en', messages: { en, zh } })
const show = (message: Message) =>
  mount(MessageItem, { props: { message, approvals: [], canRegenerate: false }, global: { plugins: [i18n] } })
const step = (fields: Partial<PlanStep> & Pick<PlanStep, 'index' | 'title'>): PlanStep => ({
  status: 'done', error: null, errorCode: null, errorParams: {}, corrective: false, ...fields,
})

describe('MessageItem', () => {
  it('shows a failed step with its error, the corrective step marked, and the self-check', () => {
    const message: Message = {
      ...placeholder('a1', 'c1', 'assistant', 'Done.'),
      status: 'completed',
      parts: [{
        type: 'plan',
        steps: [
          step({ index: 0, title: 'Look it up', status: 'failed', error: 'Stopped after 8 tool steps without a final answer.',
            errorCode: 'tool_steps', errorParams: { steps: '8' } }),
          step({ index: 1, title: 'Answer from memory', corrective: true }),
        ],
        check: { ok: false, fix: 'Answer from memory' },
      }],
    }
    const wrapper = show(message)
    expect(wrapper.find('[data-testid="plan-step-error"]').text()).toBe('调用工具 8 步后仍没有最终回答，已停止。')
    const steps = wrapper.findAll('[data-testid="plan-step"]')
    expect(steps[1].find('[data-testid="plan-corrective"]').exists()).toBe(true)
    expect(steps[0].find('[data-testid="plan-corrective"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="plan-check"]').text()).toBe('自检要求修正：Answer from memory')
  })

  it('translates coded notices and failures, and falls back to the English of older rows', () => {
    const message: Message = {
      ...placeholder('a1', 'c1', 'assistant'),
      status: 'failed',
      error: 'Choose a model for Sage or a default model for Local.',
      failure: { reason: 'setup', code: 'no_model', params: { agent: 'Sage', provider: 'Local' } },
      parts: [
        { type: 'notice', text: 'Knowledge search failed, answering without sources: boom', code: 'knowledge_search_failed', params: { error: 'boom' } },
        { type: 'notice', text: 'An old notice', code: null, params: {} },
      ],
    }
    const wrapper = show(message)
    expect(wrapper.findAll('.notice').map((n) => n.text())).toEqual(['知识库搜索失败，本次回答不带来源。boom', 'An old notice'])
    expect(wrapper.find('[data-testid="message-error"]').text()).toBe('请为 Sage 选择模型，或为 Local 设置默认模型。')
  })
})

describe('MessageItem retry notices', () => {
  const retry = (seconds: string) => ({
    type: 'notice' as const, text: `Rate limited by the provider; retrying in ${seconds} s.`, code: 'rate_limited' as const,
    params: { seconds },
  })
  const mcp = { type: 'notice' as const, text: 'x', code: 'mcp_unavailable' as const, params: { error: 'x' } }

  it('shows the latest "retrying in N s" while the reply waits for its first token', () => {
    const waiting: Message = { ...placeholder('a1', 'c1', 'assistant'), parts: [mcp, retry('1'), retry('2')] }
    const texts = show(waiting).findAll('.notice').map((n) => n.text())
    expect(texts).toEqual(['有一个 MCP 服务器无法启动，本次回复没有它的工具。x', '模型服务限流中，2 秒后重试。'])
  })

  it('drops it once the answer arrives, keeps it when the reply failed after all', () => {
    const answered: Message = { ...placeholder('a1', 'c1', 'assistant', 'Hi'), parts: [retry('1')] }
    expect(show(answered).findAll('.notice')).toHaveLength(0)
    const completed: Message = { ...answered, status: 'completed' }
    expect(show(completed).findAll('.notice')).toHaveLength(0)
    const failed: Message = { ...placeholder('a1', 'c1', 'assistant'), status: 'failed', parts: [retry('1'), retry('4')],
      error: 'The provider is rate-limiting requests (HTTP 429)', failure: { reason: 'rate_limit', code: null, params: {} } }
    expect(show(failed).findAll('.notice').map((n) => n.text())).toEqual(['模型服务限流中，4 秒后重试。'])
  })
})

describe('MessageItem failures', () => {
  it('names the kind of a provider failure in the UI language, the detail as sent', () => {
    const message: Message = {
      ...placeholder('a1', 'c1', 'assistant'), status: 'failed', error: 'The provider refused the API key (HTTP 401): invalid key',
      failure: { reason: 'auth', code: null, params: {} },
    }
    const error = show(message).find('[data-testid="message-error"]')
    expect(error.text()).toMatch(/^提供方拒绝了 API 密钥/)
    expect(error.find('small').text()).toBe('(HTTP 401): invalid key')
  })

  it('says a cancelled reply was stopped, in the UI language only', () => {
    const message: Message = {
      ...placeholder('a1', 'c1', 'assistant'), status: 'interrupted', error: 'Stopped by the user.',
      failure: { reason: 'cancelled', code: null, params: {} },
    }
    const error = show(message).find('[data-testid="message-error"]')
    expect(error.text()).toBe('已由你停止。')
    expect(error.find('small').exists()).toBe(false)
  })
})

describe('MessageItem reasoning', () => {
  it('shows thinking collapsed, with its duration, apart from the answer', () => {
    const message: Message = {
      ...placeholder('a1', 'c1', 'assistant', 'The answer.'),
      status: 'completed',
      parts: [{ type: 'reasoning', text: 'Secret steps', durationMs: 3400 }],
    }
    const wrapper = show(message)
    const block = wrapper.find('[data-testid="reasoning"]')
    expect(block.attributes('open')).toBeUndefined()
    expect(block.find('summary').text()).toBe('已思考 3 秒')
    expect(block.find('[data-testid="reasoning-text"]').text()).toBe('Secret steps')
    expect(wrapper.find('[data-testid="message-text"]').text()).toBe('The answer.')
  })

  it('says it is still thinking while the reply has no text yet', () => {
    const message: Message = {
      ...placeholder('a1', 'c1', 'assistant'),
      parts: [{ type: 'reasoning', text: 'Hmm', durationMs: 200 }],
    }
    const wrapper = show(message)
    expect(wrapper.find('[data-testid="reasoning"] summary').text()).toBe('思考中… 1 秒')
    expect(wrapper.find('.typing').exists()).toBe(false)
  })
})
