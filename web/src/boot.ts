/**
 * Before the app: the boot screen (index.html's logo and spinner) must be on screen first.
 * WebKit paints nothing while a page's stylesheets load or its scripts run, and the app is
 * ~0.5 MB of scripts and ~120 kB of CSS: imported by the entry, they held the window blank for
 * up to 0.3 s more (bench/startup/launch_timeline.mjs). So the entry waits for the first paint,
 * then imports the app.
 */

type Frames = Pick<Window, 'requestAnimationFrame' | 'setTimeout' | 'clearTimeout'>

/**
 * Resolves once the page has painted, or after `timeoutMs` when no frame comes: a window that
 * starts hidden (in the tray) gets no animation frames until it is shown.
 */
export function afterFirstPaint(timeoutMs = 100, frames: Frames = window): Promise<void> {
  return new Promise((resolve) => {
    const timer = frames.setTimeout(resolve, timeoutMs)
    // A frame callback runs just before its frame is painted; a task it queues runs after.
    frames.requestAnimationFrame(() =>
      frames.setTimeout(() => {
        frames.clearTimeout(timer)
        resolve()
      }, 0),
    )
  })
}

/** The app could not load or start (a damaged install, a broken profile): say so instead of
 * spinning forever. */
export function showBootFailure(error: unknown, root: HTMLElement | null = document.getElementById('app')): void {
  console.error('Sage could not load its interface', error)
  if (!root) return
  const message = document.createElement('p')
  message.className = 'boot-failure'
  message.setAttribute('role', 'alert')
  message.textContent = `Sage could not start its interface (${String(error)}). Quit and open Sage again; if this keeps happening, reinstall it.`
  root.replaceChildren(message)
}
