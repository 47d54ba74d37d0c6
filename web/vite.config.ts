import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vitest/config'
import { readFileSync } from 'node:fs'
import vue from '@vitejs/plugin-vue'
import { woff2Only } from './tools/woff2Only.mjs'

// The app version's one source is the workspace Cargo.toml (see scripts/version.py).
function appVersion(): string {
  const cargo = readFileSync(new URL('../Cargo.toml', import.meta.url), 'utf8')
  const found = /^\[workspace\.package\][^[]*?^version = "([^"]+)"/ms.exec(cargo)
  if (!found) throw new Error('Cargo.toml: no version in [workspace.package]')
  return found[1]
}

// Port 1420 is the shell's devUrl (tauri.conf.json) and an allowed sidecar CORS origin.
export default defineConfig({
  plugins: [woff2Only(), vue()],
  define: { __SAGE_UI_VERSION__: JSON.stringify(appVersion()) },
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: '127.0.0.1' },
  // The manifest lets tools/bundleSize.mjs measure the initial route after each build.
  build: { target: 'es2022', sourcemap: false, manifest: true },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'tools/**/*.test.ts'],
    setupFiles: ['tools/vitestSetup.ts'],
    // Generous limits: CI runs this on 2 busy cores, where a worker's start alone can take seconds.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
