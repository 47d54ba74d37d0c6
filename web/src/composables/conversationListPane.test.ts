import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { defineComponent, nextTick } from 'vue'

import { NARROW_QUERY, useConversationListPane, type ListPane } from './conversationListPane'

/** A MediaQueryList whose `matches` the test flips, as a window resize would. */
class FakeMedia extends EventTarget {
  constructor(public matches: boolean) {
    super()
  }
  media = NARROW_QUERY
  resize(narrow: boolean): void {
    this.matches = narrow
    this.dispatchEvent(Object.assign(new Event('change'), { matches: narrow }))
  }
}

function memoryStorage(): Storage {
  const map = new Map<string, string>()
  return {
    getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k),
    clear: () => map.clear(), key: (i) => [...map.keys()][i] ?? null, get length() { return map.size },
  }
}

function pane(storage: Storage, media: FakeMedia | null): { pane: ListPane; unmount: () => void } {
  let made: ListPane | undefined
  const host = mount(defineComponent({
    setup() {
      made = useConversationListPane(storage, media as unknown as MediaQueryList)
      return () => null
    },
  }))
  return { pane: made as ListPane, unmount: () => host.unmount() }
}

describe('useConversationListPane', () => {
  it('shows the list by default and remembers hiding it across reloads', () => {
    const storage = memoryStorage()
    const first = pane(storage, new FakeMedia(false))
    expect(first.pane.shown.value).toBe(true)
    first.pane.toggle()
    expect(first.pane.shown.value).toBe(false)
    first.unmount()
    const reloaded = pane(storage, new FakeMedia(false))
    expect(reloaded.pane.shown.value).toBe(false)
    reloaded.pane.show()
    expect(reloaded.pane.shown.value).toBe(true)
    expect(pane(storage, null).pane.shown.value).toBe(true)
  })

  it('starts hidden on a narrow window, shows it when asked without changing the saved choice', async () => {
    const storage = memoryStorage()
    const media = new FakeMedia(true)
    const { pane: narrow } = pane(storage, media)
    expect(narrow.shown.value).toBe(false)
    narrow.toggle()
    expect(narrow.shown.value).toBe(true)
    expect(storage.getItem('sage.chat.listHidden')).toBeNull()
    media.resize(false) // widened: the saved choice (shown) again
    await nextTick()
    expect(narrow.shown.value).toBe(true)
    narrow.toggle()
    media.resize(true) // narrowed again: hidden until asked
    media.resize(false)
    expect(narrow.shown.value).toBe(false) // the wide window's choice was to hide it
  })
})
