import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import { installExternalLinks } from './composables/externalLinks'
import { applyTheme, savedTheme } from './composables/theme'
import './styles.css'

applyTheme(savedTheme())
// Web links open in the system browser (desktop) or a new tab (browser), never in Sage's window.
installExternalLinks((key, values) => i18n.global.t(key, values ?? {}))

createApp(App).use(createPinia()).use(router).use(i18n).mount('#app')
