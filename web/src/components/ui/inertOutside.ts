/**
 * While a modal popup (select list, dialog) is open, Reka hides the rest of the page from
 * assistive tech with `aria-hidden` (the aria-hidden package, which marks what it hid with
 * `data-aria-hidden`). Hidden but still focusable content is what axe's aria-hidden-focus rule
 * fails (serious), so the same elements are made `inert` too: not focusable, not clickable, out
 * of the accessibility tree. Undone synchronously when the popup closes, before Reka moves focus
 * back to the control that opened it (an inert control cannot take focus).
 */
import { onBeforeUnmount, watch, type Ref } from 'vue'

export function useInertOutside(open: Ref<boolean>): void {
  const made = new Set<Element>()
  let observer: MutationObserver | null = null

  const mark = (el: Element) => {
    if (el.getAttribute('data-aria-hidden') !== 'true' || el.hasAttribute('inert')) return
    el.setAttribute('inert', '')
    made.add(el)
  }
  const start = () => {
    if (observer || typeof MutationObserver === 'undefined') return
    observer = new MutationObserver((records) => records.forEach((r) => mark(r.target as Element)))
    observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-aria-hidden'] })
    document.querySelectorAll('[data-aria-hidden="true"]').forEach(mark)
  }
  const stop = () => {
    observer?.disconnect()
    observer = null
    made.forEach((el) => el.removeAttribute('inert'))
    made.clear()
  }

  watch(open, (value) => (value ? start() : stop()), { flush: 'sync', immediate: true })
  onBeforeUnmount(stop)
}
