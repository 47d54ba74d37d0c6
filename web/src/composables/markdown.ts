/** Markdown for model output: markdown-it with raw HTML off, code highlighted by highlight.js
 * (a handful of common languages, to keep the bundle small), then DOMPurify as a second lock. */
import DOMPurify from 'dompurify'
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import css from 'highlight.js/lib/languages/css'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import MarkdownIt from 'markdown-it'

for (const [name, language] of Object.entries({ bash, css, javascript, json, python, rust, sql, typescript, xml })) {
  hljs.registerLanguage(name, language)
}
hljs.registerAliases(['sh', 'shell', 'zsh'], { languageName: 'bash' })
hljs.registerAliases(['js'], { languageName: 'javascript' })
hljs.registerAliases(['ts'], { languageName: 'typescript' })
hljs.registerAliases(['py'], { languageName: 'python' })
hljs.registerAliases(['html', 'vue'], { languageName: 'xml' })

// The code blocks' copy button label, in the UI's language: set by renderMarkdown for the one
// synchronous render it starts (markdown-it's highlight callback gets no render env).
let copyLabel = 'Copy'

const md: MarkdownIt = new MarkdownIt({
  html: false,
  linkify: true,
  breaks: true,
  highlight(code, lang) {
    const language = hljs.getLanguage(lang) ? lang : null
    const body = language ? hljs.highlight(code, { language, ignoreIllegals: true }).value : md.utils.escapeHtml(code)
    // A copy button per block; MessageItem handles its clicks by delegation.
    return `<pre class="code-block"><button type="button" class="copy-code" data-copy-code>${md.utils.escapeHtml(copyLabel)}</button><code class="hljs">${body}</code></pre>`
  },
})

// Links open outside the app window, never inside it.
const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options))
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('target', '_blank')
  tokens[idx].attrSet('rel', 'noopener noreferrer')
  return defaultLink(tokens, idx, options, env, self)
}

// Citation markers: "[2]" becomes a button the message links to its source, when the reply has a
// source numbered 2 (env.citations). An inline rule, so code spans and link text stay untouched.
md.inline.ruler.before('link', 'citation', (state, silent) => {
  const cited = (state.env as { citations?: Set<number> }).citations
  if (!cited?.size || state.src.charCodeAt(state.pos) !== 0x5b /* [ */) return false
  const match = /^\[(\d{1,3})\](?![([])/.exec(state.src.slice(state.pos))
  if (!match || !cited.has(Number(match[1]))) return false
  if (!silent) state.push('citation', '', 0).meta = { number: Number(match[1]) }
  state.pos += match[0].length
  return true
})
md.renderer.rules.citation = (tokens, idx) => {
  const number = tokens[idx].meta.number as number
  return `<button type="button" class="cite" data-cite="${number}">[${number}]</button>`
}

/** Render model output; `citations` are the source numbers its `[n]` markers may point at, and
 * `copy` labels the code blocks' copy buttons (translated by the caller). */
export function renderMarkdown(text: string, citations: Iterable<number> = [], copy = 'Copy'): string {
  copyLabel = copy
  const html = md.render(text, { citations: new Set(citations) })
  return DOMPurify.sanitize(html, { ADD_ATTR: ['target', 'data-copy-code', 'data-cite'] })
}
