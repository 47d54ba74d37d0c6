import { createI18n } from 'vue-i18n'
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/http'
import en from '@/locales/en.json'
import zh from '@/locales/zh.json'

import { errorMessage, type Translator } from './errors'

function translator(locale: 'en' | 'zh'): Translator {
  const { global } = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, zh } })
  return { t: (key, params) => global.t(key, params ?? {}), te: (key, loc) => global.te(key, loc as 'en' | 'zh' | undefined) }
}

describe('workspace errors', () => {
  it('says why a path was refused in the reader’s language', () => {
    const error = new ApiError(422, "'../x': '..' is not allowed", 'workspace.path_refused', { path: '../x', reason: 'traversal' })
    expect(errorMessage(error, translator('en'))).toBe('This path is not allowed in the workspace: “../x” (“..” is not allowed).')
    expect(errorMessage(error, translator('zh'))).toBe('工作区中不允许此路径：“../x”（不允许使用“..”）。')
  })

  it('leaves a reason that is not a known word as the sidecar sent it', () => {
    const error = new ApiError(422, 'bad', 'upload.malformed', { reason: 'Did not find boundary' })
    expect(errorMessage(error, translator('en'))).toBe('The upload could not be read (Did not find boundary).')
  })

  it('names the limit when a workspace is full', () => {
    const error = new ApiError(413, 'full', 'workspace.quota_exceeded', { quota: 1048576, used: 10, adding: 2e6, limit: '1.0 MB' })
    expect(errorMessage(error, translator('en'))).toContain('at most 1.0 MB')
  })
})
