// @vitest-environment node
/**
 * Every visible string goes through vue-i18n: both locales have the same keys, the keys the code
 * names exist, and no component template has English text of its own.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'vue/compiler-sfc'

import en from './en.json'
import zh from './zh.json'

const SRC = fileURLToPath(new URL('..', import.meta.url))

function keys(messages: object, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    value && typeof value === 'object' ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

function sources(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path, ext)
    return entry.name.endsWith(ext) && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

const relative = (path: string) => path.slice(SRC.length)

// A template node as the compiler gives it: elements (1) with props and children, text (2).
interface TemplateNode {
  type: number
  content?: string
  loc: { start: { line: number } }
  children?: TemplateNode[]
  props?: { type: number; name: string; value?: { content: string } }[]
}

// Static attributes a reader sees; their values must come from the locale files too.
const READ_ATTRIBUTES = new Set(['title', 'placeholder', 'aria-label', 'alt'])
// Names and examples that are the same in every language.
const ALLOWED = new Set(['Sage', 'nomic-embed-text'])

function bareText(node: TemplateNode, found: string[]): string[] {
  const english = (text: string) => /[A-Za-z]{2,}/.test(text) && !ALLOWED.has(text.trim())
  if (node.type === 2 && node.content && english(node.content)) {
    found.push(`line ${node.loc.start.line}: "${node.content.trim()}"`)
  }
  for (const prop of node.props ?? []) {
    if (prop.type === 6 && READ_ATTRIBUTES.has(prop.name) && prop.value && english(prop.value.content)) {
      found.push(`line ${node.loc.start.line}: ${prop.name}="${prop.value.content}"`)
    }
  }
  for (const child of node.children ?? []) bareText(child, found)
  return found
}

describe('locales', () => {
  it('en and zh have the same keys', () => {
    const english = keys(en)
    const chinese = keys(zh)
    expect(english.filter((k) => !chinese.includes(k)), 'missing in zh.json').toEqual([])
    expect(chinese.filter((k) => !english.includes(k)), 'missing in en.json').toEqual([])
  })

  it('every key the code names literally exists', () => {
    const known = new Set(keys(en))
    const missing = [...sources(SRC, '.vue'), ...sources(SRC, '.ts')].flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\$?\bt\(\s*'([a-zA-Z][\w.-]*)'/g)]
        .map((match) => match[1])
        .filter((key) => !key.endsWith('.') && !known.has(key)) // `'a.' + x` is built at run time
        .map((key) => `${relative(file)}: ${key}`),
    )
    expect(missing).toEqual([])
  })

  it('no component template has English text of its own', () => {
    const offenders = sources(SRC, '.vue').flatMap((file) => {
      const { descriptor } = parse(readFileSync(file, 'utf8'), { filename: file })
      const ast = descriptor.template?.ast as TemplateNode | undefined
      return ast ? bareText(ast, []).map((text) => `${relative(file)} ${text}`) : []
    })
    expect(offenders).toEqual([])
  })
})
