import { createI18n } from 'vue-i18n'
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/http'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import { errorMessage, UiError, type Translator } from './errors'

function translator(locale: 'en' | 'zh'): Translator {
  const { global } = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  return { t: (key, params) => global.t(key, params ?? {}), te: (key, loc) => global.te(key, loc as 'en' | 'zh' | undefined) }
}

describe('errorMessage', () => {
  it('translates a known sidecar code with its params', () => {
    const error = new ApiError(413, 'big.pdf is larger than the 1 MB limit', 'file.too_large', { name: 'big.pdf' })
    expect(errorMessage(error, translator('en'))).toBe('big.pdf is too large to add.')
    expect(errorMessage(error, translator('zh'))).toBe('big.pdf 太大，无法添加。')
  })

  it('names the missing thing in the reader’s language', () => {
    const error = new ApiError(404, "knowledge base 'k1' not found", 'not_found', { what: 'knowledge base', id: 'k1' })
    expect(errorMessage(error, translator('zh'))).toBe('找不到知识库“k1”。')
  })

  it('lists the names a refusal is about', () => {
    const error = new ApiError(422, 'unknown tools: a, b', 'agent.unknown_tools', { tools: ['a', 'b'], known: ['clock'] })
    expect(errorMessage(error, translator('en'))).toBe('Unknown tools: a, b.')
    expect(errorMessage(error, translator('zh'))).toBe('未知的工具：a, b。')
  })

  it('reads a request the sidecar refused as invalid: the field and the reason', () => {
    const reason = 'Value error, an API key is printable ASCII (it is sent in an HTTP header)'
    const problems = [{ loc: ['body', 'api_key'], msg: reason, type: 'value_error' }]
    const error = new ApiError(422, `api_key: ${reason}`, 'request.invalid', { field: 'api_key', reason, errors: problems })
    expect(errorMessage(error, translator('en'))).toBe(`Invalid request (api_key): ${reason}`)
    expect(errorMessage(error, translator('zh'))).toBe(`请求无效（api_key）：${reason}`)
  })

  it('falls back to the detail for a code it does not know, or a generic one', () => {
    const unknown = new ApiError(409, 'an MCP server named "x" already exists', 'mcp.name_taken')
    expect(errorMessage(unknown, translator('zh'))).toBe('an MCP server named "x" already exists')
    expect(errorMessage(new ApiError(422, 'base_url: bad URL'), translator('en'))).toBe('base_url: bad URL')
  })

  it('says the engine cannot be reached on a network failure', () => {
    const error = new ApiError(0, 'Cannot reach the sidecar: Failed to fetch')
    expect(errorMessage(error, translator('zh'))).toBe('无法连接本地引擎。它可能正在重启，请稍后再试。')
  })

  it('shows an HTTP status when the sidecar sent no detail', () => {
    expect(errorMessage(new ApiError(500, ''), translator('en'))).toBe('The local engine refused the request (HTTP 500).')
  })

  it('translates the UI’s own errors, and reads coded objects, errors and strings', () => {
    expect(errorMessage(new UiError('notJson'), translator('zh'))).toBe('该文件不是 JSON。')
    expect(errorMessage({ code: 'provider.auth', detail: 'x' }, translator('en'))).toBe('The provider refused the API key.')
    expect(errorMessage({ code: 'nope', detail: 'As sent' }, translator('en'))).toBe('As sent')
    expect(errorMessage({ type: 'error', error: 'the message is empty', code: null }, translator('zh'))).toBe('the message is empty')
    expect(errorMessage(new Error('plain'), translator('en'))).toBe('plain')
    expect(errorMessage('text', translator('en'))).toBe('text')
    expect(errorMessage(null, translator('en'))).toBe('')
  })
})
