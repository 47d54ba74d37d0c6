/**
 * The prompt library's templates and the `/` picker's search: which `{{variables}}` a prompt
 * has, filling them in, and a small fuzzy scorer (no dependency: titles are short and few).
 */

/** `{{ name }}`: the same pattern as the sidecar's services/prompts.py. */
const VARIABLE = /\{\{\s*([^{}\s](?:[^{}\n]{0,38}[^{}\s])?)\s*\}\}/g

export function templateVariables(content: string): string[] {
  return [...new Set(Array.from(content.matchAll(VARIABLE), (m) => m[1] as string))]
}

/** Each `{{name}}` becomes its value; one left empty stays `{{name}}` for the user to edit. */
export function fillTemplate(content: string, values: Record<string, string>): string {
  return content.replace(VARIABLE, (whole, name: string) => (values[name] ? values[name] : whole))
}

/**
 * How well `query` matches `text`, higher is better, `null` for no match: every query character
 * must appear in order; a run of consecutive characters, a match at a word start and an early
 * first match score more (what people expect from a command palette).
 */
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.trim().toLowerCase()
  if (!q) return 0
  const t = text.toLowerCase()
  let score = 0
  let from = 0
  let previous = -2
  for (const char of q) {
    if (char === ' ') continue
    const at = t.indexOf(char, from)
    if (at < 0) return null
    score += 1
    if (at === previous + 1) score += 3 // consecutive
    if (at === 0 || /[\s\-_/.]/.test(t[at - 1] ?? '')) score += 2 // word start
    previous = at
    from = at + 1
  }
  const first = t.indexOf(q)
  if (first >= 0) score += 10 - Math.min(first, 9) // the query as a substring, earlier is better
  return score
}

export interface Searchable {
  title: string
  description: string
}

/** The prompts matching `query`, best first: a title match outranks a description match. */
export function rankPrompts<T extends Searchable>(query: string, prompts: T[]): T[] {
  const scored: Array<{ prompt: T; score: number; index: number }> = []
  prompts.forEach((prompt, index) => {
    const byTitle = fuzzyScore(query, prompt.title)
    const byDescription = fuzzyScore(query, prompt.description)
    const score = byTitle !== null ? byTitle * 2 : byDescription
    if (score !== null) scored.push({ prompt, score, index })
  })
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).map((s) => s.prompt)
}
