/**
 * Composer history, like a shell's: ↑ in an empty composer (or at the start of a recalled
 * entry) brings back earlier messages of the conversation, ↓ goes forward to the draft.
 */
export class ComposerHistory {
  private index: number | null = null // null: editing the draft, not a recalled entry
  private savedDraft = ''

  constructor(private entries: () => string[]) {}

  /** The text to show after ↑, or null when there is nothing older. */
  older(draft: string): string | null {
    const entries = this.entries()
    const next = this.index === null ? entries.length - 1 : this.index - 1
    if (next < 0) return null
    if (this.index === null) this.savedDraft = draft
    this.index = next
    return entries[next]
  }

  /** The text to show after ↓: a newer entry, then the draft that was being written. */
  newer(): string | null {
    if (this.index === null) return null
    const entries = this.entries()
    if (this.index + 1 < entries.length) return entries[++this.index]
    this.index = null
    return this.savedDraft
  }

  /** Typing or sending leaves history navigation. */
  reset(): void {
    this.index = null
    this.savedDraft = ''
  }

  get browsing(): boolean {
    return this.index !== null
  }
}
