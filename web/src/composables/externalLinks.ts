/**
 * Links to the web open outside Sage. In the desktop app a link's default action would navigate
 * (or, with target="_blank", ask for a new window, which the webview refuses), so a delegated
 * click handler sends every http(s) link to the system's default browser through the opener
 * plugin instead, asking first for plain http. In a browser, links open in a new tab with
 * rel="noopener". Installed once for every window (main.ts).
 */
import { inTauri } from '@/api/shell'
import { askConfirm } from '@/composables/confirm'

type Translate = (key: string, values?: Record<string, unknown>) => string

export interface LinkDeps {
  tauri: boolean
  /** Whether the user wants to open this (plain-http) address. */
  confirm: (url: string) => Promise<boolean>
  open: (url: string) => Promise<void>
}

/** The web address a click on `target` follows, or null (not a link, or not to the web). */
export function externalUrlOf(target: EventTarget | null, base: string): URL | null {
  const anchor = target instanceof Element ? target.closest('a[href]') : null
  // A download (a generated file's blob link) is the app's own business.
  if (!anchor || anchor.hasAttribute('download')) return null
  let url: URL
  try {
    url = new URL(anchor.getAttribute('href') as string, base)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  // The sidecar and the dev server are the app itself, not the web.
  if (url.origin === new URL(base).origin) return null
  return url
}

/** Plain http can be read and changed on the way: the user confirms before it opens. */
export const needsConfirmation = (url: URL): boolean => url.protocol === 'http:'

/** The opener plugin's open_url (capabilities/links.json allows http and https only). */
export async function openInBrowser(url: string): Promise<void> {
  const { invoke } = await import('@tauri-apps/api/core')
  await invoke('plugin:opener|open_url', { url })
}

/** Ask (a modal confirmation, components/ui/ConfirmHost.vue) whether to open a plain-http address. */
export function confirmInDialog(t: Translate): (url: string) => Promise<boolean> {
  return (url) =>
    askConfirm({
      title: t('confirm.title'),
      message: t('links.confirm', { url }),
      confirmLabel: t('links.open'),
      cancelLabel: t('links.cancel'),
      danger: true,
      testid: 'link-confirm',
    })
}

/** Route clicks on web links; returns the function that removes the handler. */
export function installExternalLinks(t: Translate, doc: Document = document, deps?: Partial<LinkDeps>): () => void {
  const { tauri, confirm, open }: LinkDeps = {
    tauri: inTauri(),
    confirm: confirmInDialog(t),
    open: openInBrowser,
    ...deps,
  }
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return
    const url = externalUrlOf(event.target, doc.baseURI)
    if (!url) return
    if (!tauri) {
      // A new tab that cannot reach back into Sage.
      const anchor = (event.target as Element).closest('a') as HTMLAnchorElement
      anchor.target = '_blank'
      anchor.rel = 'noopener noreferrer'
      return
    }
    event.preventDefault()
    const href = url.href
    void (async () => {
      if (needsConfirmation(url) && !(await confirm(href))) return
      await open(href).catch((error) => console.warn('could not open', href, error))
    })()
  }
  doc.addEventListener('click', onClick)
  return () => doc.removeEventListener('click', onClick)
}
