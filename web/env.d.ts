/// <reference types="vite/client" />

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
