// The initial route's size: the JS and CSS the window loads before the first screen (index.html's
// entry chunk, the app it imports once the boot screen has painted (src/boot.ts), every chunk
// they import statically, and their CSS), gzipped, from Vite's manifest. Lazy routes and fonts
// (fetched per unicode-range subset on demand) are not part of it. And the boot entry's own size:
// what loads before the boot screen can paint, which must stay tiny.
// Run after `vite build` (npm run build does): prints the sizes and fails above a budget.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export const BUDGET_BYTES = 1.5 * 1024 * 1024
export const BOOT_BUDGET_BYTES = 4 * 1024
export const BOOT_ENTRY = 'index.html'
export const APP_CHUNK = 'src/app.ts'

/** The files (JS and CSS) of the entries and their static imports, each once. */
export function initialFiles(manifest, entries = [BOOT_ENTRY, APP_CHUNK]) {
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
  for (const entry of entries) visit(entry)
  return [...files]
}

export function initialSize(dist, entries = [BOOT_ENTRY, APP_CHUNK]) {
  const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'))
  const files = initialFiles(manifest, entries).map((file) => {
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
  const boot = initialSize(process.argv[2] ?? 'dist', [BOOT_ENTRY])
  console.log(`before the boot screen paints: ${kb(boot.gzip)} gzipped (budget ${kb(BOOT_BUDGET_BYTES)})`)
  if (boot.gzip > BOOT_BUDGET_BYTES) {
    console.error(`the boot entry is over its budget: ${boot.files.map((f) => f.file).join(', ')}; import the app from src/app.ts, after the first paint`)
    process.exit(1)
  }
}
