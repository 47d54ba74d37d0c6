/**
 * For component tests: jsdom lacks what Reka UI's popups call (pointer capture, scrollIntoView,
 * ResizeObserver), and a test picks a UiSelect's value the way the component hears it.
 */
import type { VueWrapper } from '@vue/test-utils'

import UiSelect from './UiSelect.vue'

export function installJsdomShims(): void {
  const proto = Element.prototype as unknown as Record<string, unknown>
  proto.scrollIntoView ??= function scrollIntoView() {}
  proto.hasPointerCapture ??= () => false
  proto.releasePointerCapture ??= () => undefined
  globalThis.ResizeObserver ??= class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  }
}

/** Choose `value` in the UiSelect whose trigger has `data-testid="<testid>"`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function pick(wrapper: VueWrapper<any>, testid: string, value: string): Promise<void> {
  const select = wrapper.findAllComponents(UiSelect).find((c) => c.vm.$attrs['data-testid'] === testid)
  if (!select) throw new Error(`no UiSelect with data-testid="${testid}"`)
  select.vm.$emit('update:modelValue', value)
  await wrapper.vm.$nextTick()
}

/** Press a key on whatever has focus (Reka's parts listen on the focused element and the document). */
export async function press(key: string): Promise<void> {
  const target = document.activeElement ?? document.body
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }))
  await new Promise((resolve) => setTimeout(resolve, 0))
}
