import { describe, expect, it } from 'vitest'

import { renderMarkdown } from './markdown'

describe('renderMarkdown', () => {
  it('renders markdown', () => {
    const html = renderMarkdown('**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |')
    expect(html).toContain('<strong>bold</strong>')
    expect(html).toContain('<code>code</code>')
    expect(html).toContain('<table>')
  })

  it('never lets model output run script or inject markup', () => {
    const html = renderMarkdown('<img src=x onerror="alert(1)"> <script>alert(2)</script> [x](javascript:alert(3))')
    const doc = new DOMParser().parseFromString(html, 'text/html')
    expect(doc.querySelectorAll('img, script, iframe')).toHaveLength(0)
    const attributes = [...doc.querySelectorAll('*')].flatMap((el) => [...el.attributes])
    expect(attributes.filter((a) => a.name.startsWith('on'))).toEqual([])
    expect([...doc.querySelectorAll('a')].map((a) => a.getAttribute('href'))).not.toContain('javascript:alert(3)')
    expect(doc.body.textContent).toContain('<script>alert(2)</script>') // shown as text, not run
  })

  it('opens links outside the app', () => {
    expect(renderMarkdown('https://example.org')).toContain('target="_blank"')
  })
})

describe('code blocks', () => {
  it('highlights known languages and adds a copy button', () => {
    const html = renderMarkdown('```python\ndef f():\n    return 1\n```')
    const doc = new DOMParser().parseFromString(html, 'text/html')
    expect(doc.querySelector('code.hljs .hljs-keyword')?.textContent).toBe('def')
    expect(doc.querySelector('button[data-copy-code]')).not.toBeNull()
  })

  it("labels the copy button in the caller's language, escaped, for that render only", () => {
    const button = (html: string) => new DOMParser().parseFromString(html, 'text/html').querySelector('button[data-copy-code]')
    expect(button(renderMarkdown('```\nx\n```', [], '复制'))?.textContent).toBe('复制')
    expect(button(renderMarkdown('```\nx\n```', [], '<b>C</b>'))?.innerHTML).toBe('&lt;b&gt;C&lt;/b&gt;')
    expect(button(renderMarkdown('```\nx\n```'))?.textContent).toBe('Copy')
  })

  it('escapes code in unknown languages', () => {
    const html = renderMarkdown('```nope\n<script>x</script>\n```')
    expect(new DOMParser().parseFromString(html, 'text/html').querySelector('script')).toBeNull()
    expect(html).toContain('&lt;script&gt;')
  })
})

describe('citation markers', () => {
  it('links [n] to a source the reply has, and leaves other brackets alone', () => {
    const html = renderMarkdown('Lists are mutable [1]. Tuples are not [3]. See [docs](https://x.dev) and `a[1]`.', [1, 2])
    const doc = new DOMParser().parseFromString(html, 'text/html')
    const cites = [...doc.querySelectorAll('button.cite')].map((b) => b.getAttribute('data-cite'))
    expect(cites).toEqual(['1'])
    expect(doc.body.textContent).toContain('Tuples are not [3]')
    expect(doc.querySelector('a')?.textContent).toBe('docs')
    expect(doc.querySelector('code')?.textContent).toBe('a[1]')
  })

  it('renders markers as plain text when the reply has no sources', () => {
    expect(renderMarkdown('As shown in [1].')).not.toContain('class="cite"')
  })
})
