import { describe, expect, it } from 'vitest'

import { initialFiles } from './bundleSize.mjs'

describe('the initial route of the bundle budget', () => {
  it('counts the entry, its static imports (once) and their CSS, not lazy routes', () => {
    const manifest = {
      'index.html': { file: 'assets/index.js', css: ['assets/index.css'], imports: ['_vendor.js', '_i18n.js'], dynamicImports: ['src/views/AgentsView.vue'] },
      '_vendor.js': { file: 'assets/vendor.js', imports: ['_i18n.js'] },
      '_i18n.js': { file: 'assets/i18n.js' },
      'src/views/AgentsView.vue': { file: 'assets/AgentsView.js', css: ['assets/AgentsView.css'] },
    }
    expect(initialFiles(manifest).sort()).toEqual(['assets/i18n.js', 'assets/index.css', 'assets/index.js', 'assets/vendor.js'])
  })

  it('refuses a manifest that lacks an imported chunk', () => {
    expect(() => initialFiles({ 'index.html': { file: 'a.js', imports: ['_gone.js'] } })).toThrow(/_gone/)
  })
})
