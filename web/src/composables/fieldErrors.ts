/**
 * A request the sidecar refused in validation (422 `request.invalid`) names each field with a
 * coded problem (`params.errors[].field/code/params`, sidecar api/validation_codes.py): here one
 * sentence per field in the reader's language (`errors.field.*`), for the form to show beside it.
 */
import { computed, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'

import { ApiError } from '@/api/http'

import { type Translator, UiError } from './errors'

interface FieldProblem {
  field?: unknown
  code?: unknown
  params?: unknown
  msg?: unknown
}

/** Field name (dotted, e.g. `base_url`) → the sentence for its first problem. */
export function fieldErrors(error: unknown, i18n: Translator): Record<string, string> {
  if (!(error instanceof ApiError) || error.code !== 'request.invalid') return {}
  const problems = Array.isArray(error.params.errors) ? (error.params.errors as FieldProblem[]) : []
  const out: Record<string, string> = {}
  for (const p of problems) {
    if (typeof p.field !== 'string' || !p.field || p.field in out) continue
    const key = typeof p.code === 'string' ? `errors.${p.code}` : ''
    const params = p.params && typeof p.params === 'object' ? (p.params as Record<string, unknown>) : {}
    if (key && (i18n.te(key) || i18n.te(key, 'en'))) out[p.field] = i18n.t(key, params)
    else if (typeof p.msg === 'string') out[p.field] = p.msg
  }
  return out
}

/** For a form: the per-field sentences, and the form-level error (a pointer to the fields when
 *  every problem has one, else the error itself). `fields` names the inputs the form has. */
export function useFieldErrors(error: Ref<unknown>, fields: readonly string[]) {
  const { t, te } = useI18n()
  const i18n: Translator = { t: (key, params) => t(key, params ?? {}), te }
  const byField = computed(() => {
    const all = fieldErrors(error.value, i18n)
    return Object.fromEntries(Object.entries(all).filter(([name]) => fields.includes(name)))
  })
  const formError = computed(() => {
    const shown = Object.keys(byField.value).length
    return shown && shown === Object.keys(fieldErrors(error.value, i18n)).length
      ? new UiError('request.fields')
      : error.value
  })
  return { byField, formError }
}
