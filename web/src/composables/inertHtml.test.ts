import { describe, expect, it } from 'vitest'

import { INERT_CSP, inertHtml } from './inertHtml'

describe('inertHtml', () => {
  it('puts a policy with no script and no network first, and drops refresh and base tags', () => {
    const out = inertHtml(`<html><head><meta http-equiv="refresh" content="0;url=http://evil.test/">
      <base href="http://evil.test/"><script>alert(1)</script></head><body><img src="http://evil.test/x.png">hi</body></html>`)
    const doc = new DOMParser().parseFromString(out, 'text/html')
    const first = doc.head.firstElementChild!
    expect(first.getAttribute('http-equiv')).toBe('Content-Security-Policy')
    expect(first.getAttribute('content')).toBe(INERT_CSP)
    expect(INERT_CSP).toContain("default-src 'none'")
    expect(INERT_CSP).not.toMatch(/script-src|http:|https:|\*/)
    expect(doc.querySelectorAll('meta[http-equiv]')).toHaveLength(1)
    expect(doc.querySelector('base')).toBeNull()
    expect(doc.body.textContent).toContain('hi')
  })
})
