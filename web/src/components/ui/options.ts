/** One choice of a UiSelect: `value` is what the model holds ('' is allowed: "the default"). */
export interface UiOption<T extends string = string> {
  value: T
  label: string
  disabled?: boolean
}

/** What UiSelect hands Reka for '' (Reka reserves '' for "nothing chosen"). */
export const EMPTY_VALUE = '\u0000empty'
