/**
 * Whether Chat shows its conversation list. Hiding it on a wide window is a choice remembered per
 * machine (like the theme); a narrow window (the media query below, the width at which the list
 * used to vanish) starts with it hidden and shows it only when asked, until the window widens.
 */
import { computed, onUnmounted, ref, type ComputedRef } from 'vue'

const KEY = 'sage.chat.listHidden'
export const NARROW_QUERY = '(max-width: 720px)'

export interface ListPane {
  shown: ComputedRef<boolean>
  toggle: () => void
  show: () => void
}

export function useConversationListPane(
  storage: Storage = localStorage,
  media: MediaQueryList | null = typeof window.matchMedia === 'function' ? window.matchMedia(NARROW_QUERY) : null,
): ListPane {
  const hidden = ref(storage.getItem(KEY) === '1')
  const narrow = ref(media?.matches ?? false)
  const shownWhileNarrow = ref(false)
  const onWidth = (event: MediaQueryListEvent) => {
    narrow.value = event.matches
    shownWhileNarrow.value = false
  }
  media?.addEventListener('change', onWidth)
  onUnmounted(() => media?.removeEventListener('change', onWidth))

  const shown = computed(() => (narrow.value ? shownWhileNarrow.value : !hidden.value))
  function set(show: boolean): void {
    if (narrow.value) {
      shownWhileNarrow.value = show
      return
    }
    hidden.value = !show
    storage.setItem(KEY, show ? '0' : '1')
  }
  return { shown, toggle: () => set(!shown.value), show: () => set(true) }
}
