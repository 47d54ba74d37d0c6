// PDFs written by hand for the preview tests (browser and desktop), and the app's CSP as the
// webview enforces it. Each PDF is objects, then an xref table with their byte offsets.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { ROOT } from './support.mjs'

/** The desktop app's CSP (src-tauri/tauri.conf.json) as one header value; `frame-ancestors` aside,
 * which only a header can carry (a meta tag is how the browser tests apply the rest). */
export function appCsp() {
  const { csp } = JSON.parse(readFileSync(join(ROOT, 'src-tauri/tauri.conf.json'), 'utf8')).app.security
  return Object.entries(csp).filter(([name]) => name !== 'frame-ancestors').map(([name, value]) => `${name} ${value}`).join('; ')
}

/** A page on the Workspace screen of a new agent, under the app's CSP from then on (a meta CSP
 * applies from the moment it is in the document); violations are kept in `window.__violations`. */
export async function openWorkspaceUnderAppCsp(ui, sidecar, name) {
  const agent = await sidecar.api('POST', '/api/agents', { name })
  const page = await ui.browser.newPage({ locale: 'en-US' })
  await page.addInitScript((value) => Object.defineProperty(window, '__SAGE__', { value: Object.freeze(value) }), sidecar.config)
  await page.goto(`${ui.origin}/#/workspace?agent=${agent.id}`)
  await page.getByTestId('ws-usage').waitFor()
  await page.evaluate((policy) => {
    const meta = document.createElement('meta')
    meta.httpEquiv = 'Content-Security-Policy'
    meta.content = policy
    document.head.prepend(meta)
    window.__violations = []
    document.addEventListener('securitypolicyviolation', (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`))
  }, appCsp())
  return { agent, page }
}

/** Where each page's text is drawn, in PDF points from the bottom left of a US Letter page. */
export const TEXT_BOX = { x: 72, y: 700, size: 48, width: 300 }
const PAGE = { width: 612, height: 792 }

function assemble(objects, trailerExtra = '') {
  let body = '%PDF-1.4\n'
  const offsets = objects.map((object, i) => {
    const offset = body.length
    body += `${i + 1} 0 obj\n${object}\nendobj\n`
    return offset
  })
  const xref = body.length
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  body += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('')
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${trailerExtra} >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(body, 'latin1')
}

/** A PDF with one page per text, each saying its text in large Helvetica at TEXT_BOX. */
export function pdfWithPages(texts) {
  const { x, y, size } = TEXT_BOX
  // 1 catalog, 2 pages, 3 font, then a page and its content stream per text.
  const pageIds = texts.map((_, i) => 4 + 2 * i)
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${texts.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  for (const [i, text] of texts.entries()) {
    const stream = `BT /F1 ${size} Tf ${x} ${y} Td (${text}) Tj ET`
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE.width} ${PAGE.height}] /Contents ${pageIds[i] + 1} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`,
      `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    )
  }
  return assemble(objects)
}

/** A PDF that needs a password: standard security with a user password the empty one does not
 * match (pdf.js asks for it: PasswordException). */
export function encryptedPdf() {
  const hex = (byte) => byte.repeat(32)
  return assemble(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>',
      `<< /Filter /Standard /V 1 /R 2 /O <${hex('ab')}> /U <${hex('cd')}> /P -4 >>`,
    ],
    ` /Encrypt 4 0 R /ID [<${hex('01').slice(0, 32)}> <${hex('01').slice(0, 32)}>]`,
  )
}

/** Bytes that start like a PDF and are not one. */
export function damagedPdf() {
  return Buffer.from('%PDF-1.7\nthis was a report once, before it was cut short\n', 'latin1')
}

/** In the page: how many dark, opaque pixels the canvas of page `n` holds where its text is drawn
 * (0 while it is not painted). Runs in the browser: pass it to evaluate / executeScript. */
export function darkPixelsInText(n, box) {
  const canvas = document.querySelector(`[data-testid="ws-preview-pdf"] [data-page="${n}"] canvas`)
  if (!canvas || canvas.width === 0) return 0
  const perPoint = canvas.width / 612
  const left = Math.floor(box.x * perPoint)
  const top = Math.floor((792 - box.y - box.size) * perPoint)
  const width = Math.ceil(box.width * perPoint)
  const height = Math.ceil(box.size * 1.4 * perPoint)
  const { data } = canvas.getContext('2d').getImageData(left, top, width, height)
  let dark = 0
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && data[i] < 128 && data[i + 1] < 128 && data[i + 2] < 128) dark++
  return dark
}
