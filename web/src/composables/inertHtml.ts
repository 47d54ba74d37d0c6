/**
 * An HTML file from a workspace made into a document that can do nothing but be looked at: shown
 * in `<iframe sandbox="" srcdoc>` (no script, no form, no popup, no same-origin access), with a
 * Content-Security-Policy of its own first in the document (no request of any kind: images only
 * from data: URLs, no fonts or styles from outside), and without the `<meta http-equiv>` tags that
 * could refresh it elsewhere or loosen anything. Parsed with DOMParser, which builds an inert
 * document: nothing in it runs or loads while we clean it.
 */
export const INERT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; form-action 'none'; base-uri 'none'"

export function inertHtml(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html')
  for (const element of Array.from(doc.querySelectorAll('meta[http-equiv], base'))) element.remove()
  const policy = doc.createElement('meta')
  policy.setAttribute('http-equiv', 'Content-Security-Policy')
  policy.setAttribute('content', INERT_CSP)
  doc.head.prepend(policy)
  return `<!doctype html>${doc.documentElement.outerHTML}`
}
