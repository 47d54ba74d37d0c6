import { describe, expect, it } from 'vitest'

import { initialFiles } from './bundleSize.mjs'

describe('the initial route of the bundle budget', () => {
  it('counts the entry, the app it loads after the first paint, their static imports (once) and CSS, not lazy routes', () => {
    const manifest = {
      'index.html': { file: 'assets/index.js', imports: ['_boot.js'], dynamicImports: ['src/app.ts'] },
      '_boot.js': { file: 'assets/boot.js' },
      'src/app.ts': { file: 'assets/app.js', css: ['assets/app.css'], imports: ['_vendor.js', '_i18n.js'], dynamicImports: ['src/views/AgentsView.vue'] },
      '_vendor.js': { file: 'assets/vendor.js', imports: ['_i18n.js'] },
      '_i18n.js': { file: 'assets/i18n.js' },
      'src/views/AgentsView.vue': { file: 'assets/AgentsView.js', css: ['assets/AgentsView.css'] },
    }
    expect(initialFiles(manifest).sort()).toEqual(['assets/app.css', 'assets/app.js', 'assets/boot.js', 'assets/i18n.js', 'assets/index.js', 'assets/vendor.js'])
    expect(initialFiles(manifest, ['index.html']).sort()).toEqual(['assets/boot.js', 'assets/index.js'])
  })

  it('refuses a manifest that lacks an imported chunk', () => {
    expect(() => initialFiles({ 'index.html': { file: 'a.js', imports: ['_gone.js'] } })).toThrow(/_gone/)
  })
})
