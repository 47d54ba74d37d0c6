import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { ApiError, type Skill } from '@/api'

const api = vi.hoisted(() => ({
  list: vi.fn(), get: vi.fn(), import: vi.fn(), importPath: vi.fn(), file: vi.fn(), saveSkillMd: vi.fn(), remove: vi.fn(),
  export: vi.fn(), restoreBuiltin: vi.fn(), ofAgent: vi.fn(), setForAgent: vi.fn(),
}))

vi.mock('@/api', async () => ({ ApiError: (await import('@/api/http')).ApiError, skills: api }))

import { useSkillsStore } from './skills'

const skill = (id: string, name = id) => ({ id, name, description: `${name} does things`, builtin: false, size: 10, file_count: 1 }) as Skill
const detail = (id: string) => ({ ...skill(id), skill_md: '---\nname: x\n---\n', files: [{ path: 'SKILL.md', size: 10 }] })
const upload = { file: new File(['zip'], 'x.zip'), path: 'x.zip' }

beforeEach(() => {
  setActivePinia(createPinia())
  Object.values(api).forEach((fn) => fn.mockReset())
})

describe('skills store', () => {
  it('imports a skill, then lists and opens it', async () => {
    const store = useSkillsStore()
    api.import.mockResolvedValue(skill('a'))
    api.list.mockResolvedValue([skill('a')])
    api.get.mockResolvedValue(detail('a'))
    await store.importSkill([upload])
    expect(api.import).toHaveBeenCalledWith([upload], false)
    expect(store.list.map((s) => s.id)).toEqual(['a'])
    expect(store.open?.id).toBe('a')
    expect(store.error).toBeNull()
  })

  it('asks before replacing a skill whose name is taken, and replaces only when told to', async () => {
    const store = useSkillsStore()
    api.import.mockRejectedValueOnce(new ApiError(409, 'exists', 'skill.exists', { name: 'pdf', id: 'old' }))
    await store.importSkill([upload])
    expect(store.taken).toEqual({ name: 'pdf', source: [upload] })
    expect(store.error).toBeNull()
    expect(await store.answerTaken(false)).toBeUndefined()
    expect(api.import).toHaveBeenCalledTimes(1)

    api.import.mockRejectedValueOnce(new ApiError(409, 'exists', 'skill.exists', { name: 'pdf', id: 'old' }))
    await store.importSkill([upload])
    api.import.mockResolvedValueOnce(skill('old', 'pdf'))
    api.list.mockResolvedValue([skill('old', 'pdf')])
    api.get.mockResolvedValue(detail('old'))
    await store.answerTaken(true)
    expect(api.import).toHaveBeenLastCalledWith([upload], true)
    expect(store.taken).toBeNull()
  })

  it('imports a folder the desktop dialog picked by its path, and replaces it by path too', async () => {
    const store = useSkillsStore()
    api.importPath.mockRejectedValueOnce(new ApiError(409, 'exists', 'skill.exists', { name: 'trip', id: 't' }))
    await store.importSkill({ path: '/home/me/trip' })
    expect(store.taken).toEqual({ name: 'trip', source: { path: '/home/me/trip' } })
    api.importPath.mockResolvedValueOnce(skill('t', 'trip'))
    api.list.mockResolvedValue([skill('t', 'trip')])
    api.get.mockResolvedValue(detail('t'))
    await store.answerTaken(true)
    expect(api.importPath).toHaveBeenLastCalledWith('/home/me/trip', true)
    expect(api.import).not.toHaveBeenCalled()
  })

  it('shows a refused import as the error, with its code', async () => {
    const store = useSkillsStore()
    api.import.mockRejectedValue(new ApiError(422, 'symlink', 'skill.symlink', { path: 'a' }))
    await store.importSkill([upload])
    expect(store.taken).toBeNull()
    expect((store.error as ApiError).code).toBe('skill.symlink')
  })

  it('saves SKILL.md and reloads; a refused edit keeps the skill as it was', async () => {
    const store = useSkillsStore()
    api.get.mockResolvedValue(detail('a'))
    await store.select('a')
    api.saveSkillMd.mockRejectedValueOnce(new ApiError(422, 'no front matter', 'skill.no_front_matter'))
    expect(await store.saveSkillMd('oops')).toBe(false)
    expect((store.error as ApiError).code).toBe('skill.no_front_matter')
    api.saveSkillMd.mockResolvedValueOnce(skill('a'))
    api.list.mockResolvedValue([skill('a')])
    expect(await store.saveSkillMd('---\nname: a\ndescription: b\n---\n')).toBe(true)
    expect(api.saveSkillMd).toHaveBeenLastCalledWith('a', '---\nname: a\ndescription: b\n---\n')
  })

  it('deletes the open skill and closes it', async () => {
    const store = useSkillsStore()
    api.list.mockResolvedValue([skill('a'), skill('b')])
    await store.load()
    api.get.mockResolvedValue(detail('a'))
    await store.select('a')
    api.remove.mockResolvedValue(null)
    await store.remove('a')
    expect(store.list.map((s) => s.id)).toEqual(['b'])
    expect(store.open).toBeNull()
  })
})
