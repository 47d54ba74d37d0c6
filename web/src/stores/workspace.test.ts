import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { ApiError, type SageEvent, type Workspace, type WorkspaceEntry } from '@/api'

const api = vi.hoisted(() => ({
  get: vi.fn(), trash: vi.fn(), preview: vi.fn(), upload: vi.fn(), makeFolder: vi.fn(), move: vi.fn(),
  remove: vi.fn(), restore: vi.fn(), emptyTrash: vi.fn(), raw: vi.fn(), download: vi.fn(),
}))
const listeners = vi.hoisted(() => new Set<(event: SageEvent) => void>())

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, workspaces: api }))
vi.mock('./connection', () => ({
  useConnectionStore: () => ({
    subscribe: (listener: (event: SageEvent) => void) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }),
}))

import { RELOAD_DELAY_MS, useWorkspaceStore } from './workspace'

const entry = (path: string, kind: WorkspaceEntry['kind'] = 'file'): WorkspaceEntry =>
  ({ path, name: path.split('/').pop()!, kind, size: 3, modified: '2026-11-30T00:00:00Z' })
const workspace = (...paths: string[]): Workspace =>
  ({ agent_id: 'a1', entries: paths.map((p) => entry(p)), truncated: false, used_bytes: 3, quota_bytes: 100, trash_bytes: 0 })
const changed = (fields: Partial<SageEvent & { type: 'workspace.changed' }>): SageEvent =>
  ({ type: 'workspace.changed', seq: 1, time: 0, agentId: 'a1', action: 'written', path: 'out.md', toPath: null, by: 'agent', ...fields }) as SageEvent
const emit = (event: SageEvent) => listeners.forEach((listener) => listener(event))

beforeEach(() => {
  setActivePinia(createPinia())
  listeners.clear()
  Object.values(api).forEach((fn) => fn.mockReset())
  api.trash.mockResolvedValue([])
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

describe('workspace store', () => {
  it('opens an agent at a file and shows its preview', async () => {
    api.get.mockResolvedValue(workspace('notes/todo.md'))
    api.preview.mockResolvedValue({ path: 'notes/todo.md', preview: 'markdown', text: '# Todo' })
    const store = useWorkspaceStore()
    await store.open('a1', 'notes/todo.md')
    expect(store.entries.map((e) => e.path)).toEqual(['notes/todo.md'])
    expect(api.preview).toHaveBeenCalledWith('a1', 'notes/todo.md')
    expect(store.preview?.text).toBe('# Todo')
  })

  it('reloads once per burst of events for its agent, marks what the agent wrote, ignores other agents', async () => {
    api.get.mockResolvedValue(workspace())
    const store = useWorkspaceStore()
    await store.open('a1')
    api.get.mockClear()
    api.get.mockResolvedValue(workspace('out.md', 'b.md'))
    emit(changed({ path: 'out.md' }))
    emit(changed({ path: 'b.md', by: 'user', action: 'uploaded' }))
    emit(changed({ agentId: 'other', path: 'x.md' }))
    await vi.advanceTimersByTimeAsync(RELOAD_DELAY_MS + 10)
    expect(api.get).toHaveBeenCalledTimes(1)
    expect(store.entries.map((e) => e.path)).toEqual(['out.md', 'b.md'])
    expect([...store.fresh]).toEqual(['out.md']) // the user's own upload is not news
  })

  it('shows the new content when the open file is rewritten', async () => {
    api.get.mockResolvedValue(workspace('out.md'))
    api.preview.mockResolvedValueOnce({ path: 'out.md', text: 'v1' }).mockResolvedValueOnce({ path: 'out.md', text: 'v2' })
    const store = useWorkspaceStore()
    await store.open('a1', 'out.md')
    emit(changed({ path: 'out.md' }))
    await vi.advanceTimersByTimeAsync(RELOAD_DELAY_MS + 10)
    expect(store.preview?.text).toBe('v2')
  })

  it('deleting the open file (or its folder) closes the preview; a refusal is the error shown', async () => {
    api.get.mockResolvedValue(workspace('notes/todo.md'))
    api.preview.mockResolvedValue({ path: 'notes/todo.md', text: 'x' })
    const store = useWorkspaceStore()
    await store.open('a1', 'notes/todo.md')
    api.remove.mockResolvedValue({ id: 't1', path: 'notes', kind: 'folder', size: 3, deleted_at: '' })
    api.get.mockResolvedValue(workspace())
    await store.remove('notes')
    expect(store.selected).toBeNull()
    expect(store.preview).toBeNull()
    const refused = new ApiError(422, 'refused', 'workspace.path_refused', { path: '../x', reason: 'traversal' })
    api.move.mockRejectedValue(refused)
    expect(await store.move('a.md', '../x')).toBeUndefined()
    expect(store.error).toBe(refused)
  })

  it('uploads into a folder and stops listening when closed', async () => {
    api.get.mockResolvedValue(workspace())
    const store = useWorkspaceStore()
    await store.open('a1')
    const file = new File(['hi'], 'a.txt')
    api.upload.mockResolvedValue([entry('in/a.txt')])
    await store.upload([{ file, path: 'sub/a.txt' }], 'in')
    expect(api.upload).toHaveBeenCalledWith('a1', [{ file, path: 'sub/a.txt' }], 'in')
    store.close()
    expect(listeners.size).toBe(0)
  })
})
