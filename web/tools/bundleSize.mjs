// The initial route's size: the JS and CSS the window loads before the first screen (index.html's
// entry chunk, every chunk it imports statically, and their CSS), gzipped, from Vite's manifest.
// Lazy routes and fonts (fetched per unicode-range subset on demand) are not part of it.
// Run after `vite build` (npm run build does): prints the size and fails above the budget.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export const BUDGET_BYTES = 1.5 * 1024 * 1024

/** The files (JS and CSS) of an entry and its static imports, each once. */
export function initialFiles(manifest, entry = 'index.html') {
  const files = new Set()
  const seen = new Set()
  const visit = (key) => {
    if (seen.has(key)) return
    seen.add(key)
    const chunk = manifest[key]
    if (!chunk) throw new Error(`manifest: no chunk ${key}`)
    files.add(chunk.file)
    for (const css of chunk.css ?? []) files.add(css)
    for (const imported of chunk.imports ?? []) visit(imported)
  }
  visit(entry)
  return [...files]
}

export function initialSize(dist) {
  const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'))
  const files = initialFiles(manifest).map((file) => {
    const bytes = readFileSync(join(dist, file))
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }
  })
  return { files, gzip: files.reduce((sum, f) => sum + f.gzip, 0) }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { files, gzip } = initialSize(process.argv[2] ?? 'dist')
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`
  for (const f of files) console.log(`  ${f.file}  ${kb(f.raw)} → ${kb(f.gzip)} gzip`)
  console.log(`initial route: ${kb(gzip)} gzipped (budget ${kb(BUDGET_BYTES)})`)
  if (gzip > BUDGET_BYTES) {
    console.error(`the initial route is over its budget by ${kb(gzip - BUDGET_BYTES)}: lazy-load a heavy view or library`)
    process.exit(1)
  }
}
