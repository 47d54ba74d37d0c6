// The app, imported by main.ts once the boot screen has painted.
import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import { installExternalLinks } from './composables/externalLinks'
import { applyTheme, savedTheme } from './composables/theme'
// Fonts ship with the app (a fresh Linux install has no CJK font: Chinese showed as boxes); their
// CSS splits each font by unicode-range, so the webview loads only the subsets a screen uses.
import '@fontsource-variable/inter'
import '@fontsource/noto-sans-sc/400.css'
import './styles.css'

applyTheme(savedTheme())
// Web links open in the system browser (desktop) or a new tab (browser), never in Sage's window.
installExternalLinks((key, values) => i18n.global.t(key, values ?? {}))

createApp(App).use(createPinia()).use(router).use(i18n).mount('#app')
performance.mark('sage:app-mounted') // read by bench/startup/launch_timeline.mjs
