/**
 * While a modal popup (select list, dialog) is open, Reka hides the rest of the page from
 * assistive tech with `aria-hidden` (the aria-hidden package, which marks what it hid with
 * `data-aria-hidden`). Hidden but still focusable content is what axe's aria-hidden-focus rule
 * fails (serious), so the same elements are made `inert` too: not focusable, not clickable, out
 * of the accessibility tree.
 *
 * One observer for all open popups (they nest: a select list in a dialog hides the dialog). When
 * a popup closes, every `inert` set here is lifted synchronously — before Reka moves focus back
 * to the control that opened it (an inert control cannot take focus) — and what the popups still
 * open keep hidden is made inert again on the next task.
 */
import { onBeforeUnmount, watch, type Ref } from 'vue'

const marked = new Set<Element>()
let openPopups = 0
let observer: MutationObserver | null = null

function mark(el: Element): void {
  if (el.getAttribute('data-aria-hidden') !== 'true' || el.hasAttribute('inert')) return
  el.setAttribute('inert', '')
  marked.add(el)
}

function markAll(): void {
  if (openPopups) document.querySelectorAll('[data-aria-hidden="true"]').forEach(mark)
}

function unmarkAll(): void {
  marked.forEach((el) => el.removeAttribute('inert'))
  marked.clear()
}

function follow(records: MutationRecord[]): void {
  for (const { target } of records) {
    const el = target as Element
    if (el.getAttribute('data-aria-hidden') === 'true') mark(el)
    else if (marked.delete(el)) el.removeAttribute('inert')
  }
}

export function useInertOutside(open: Ref<boolean>): void {
  if (typeof MutationObserver === 'undefined') return
  let counted = false
  const opened = () => {
    if (counted) return
    counted = true
    if (openPopups++ === 0) {
      observer = new MutationObserver(follow)
      observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-aria-hidden'] })
    }
    markAll()
  }
  const closed = () => {
    if (!counted) return
    counted = false
    openPopups--
    unmarkAll()
    if (openPopups === 0) {
      observer?.disconnect()
      observer = null
    } else {
      setTimeout(markAll, 0)
    }
  }
  watch(open, (value) => (value ? opened() : closed()), { flush: 'sync', immediate: true })
  onBeforeUnmount(closed)
}
