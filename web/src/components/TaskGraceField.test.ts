import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'

import en from '@/locales/en.json'

import TaskGraceField from './TaskGraceField.vue'

const i18n = createI18n({ legacy: false, locale: 'en', messages: { en } })
const show = (minutes: number) => mount(TaskGraceField, { props: { minutes }, global: { plugins: [i18n] } })

describe('TaskGraceField', () => {
  it('keeps what is typed when the parent re-renders before it is saved', async () => {
    const wrapper = show(60)
    const field = wrapper.find<HTMLInputElement>('[data-testid="tasks-grace"]')
    expect(field.element.value).toBe('60')
    field.element.value = '15' // typed: input events only, not yet committed
    await field.trigger('input')
    await wrapper.setProps({ minutes: 60 }) // the screen's data arrived again, unchanged
    expect(field.element.value).toBe('15')
    await field.trigger('keydown', { key: 'Enter' })
    await field.trigger('change') // then the field loses focus
    expect(wrapper.emitted('save')).toEqual([[15]])
  })

  it('follows a new saved value, clamps, and saves nothing unchanged', async () => {
    const wrapper = show(60)
    const field = wrapper.find<HTMLInputElement>('[data-testid="tasks-grace"]')
    await wrapper.setProps({ minutes: 30 })
    expect(field.element.value).toBe('30')
    await field.setValue('-5') // input + change
    expect(field.element.value).toBe('0')
    await field.setValue('0')
    await wrapper.setProps({ minutes: 0 })
    await field.setValue('99999')
    expect(wrapper.emitted('save')).toEqual([[0], [10080]])
  })
})
