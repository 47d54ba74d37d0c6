/* Fontsource's CSS lists a .woff fallback after each .woff2 file. Every webview Sage runs in
   (WebKitGTK, WebView2, WKWebView) and the E2E's Chromium read woff2, so the fallbacks would only
   add ~4.7 MB of never-loaded files to dist/ and the installers: drop them from the CSS so Vite
   neither copies nor references them. */
const WOFF_FALLBACK = /,\s*url\([^)]*\.woff\)\s*format\(['"]woff['"]\)/g

/** @returns {import('vite').Plugin} */
export function woff2Only() {
  return {
    name: 'sage:woff2-only',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('@fontsource') || !id.split('?')[0].endsWith('.css')) return null
      return { code: code.replace(WOFF_FALLBACK, ''), map: null }
    },
  }
}
