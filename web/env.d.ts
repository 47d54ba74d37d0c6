/// <reference types="vite/client" />

/** The app version the UI was built with (from Cargo.toml, see vite.config.ts). */
declare const __SAGE_UI_VERSION__: string

interface ImportMetaEnv {
  /** Dev/browser-test fallback when no shell injected `window.__SAGE__`. */
  readonly VITE_SAGE_API_BASE?: string
  readonly VITE_SAGE_API_KEY?: string
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
