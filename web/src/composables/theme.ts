/** Light, dark, or follow the system; remembered per machine. CSS reads `data-theme` on <html>. */
export const THEMES = ['system', 'light', 'dark'] as const
export type Theme = (typeof THEMES)[number]
const KEY = 'sage.theme'

export function savedTheme(): Theme {
  const value = localStorage.getItem(KEY)
  return (THEMES as readonly string[]).includes(value ?? '') ? (value as Theme) : 'system'
}

export function applyTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme)
  if (theme === 'system') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = theme
}
