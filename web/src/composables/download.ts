/** Save generated text as a file through the webview's download mechanism. */
export function downloadText(filename: string, text: string, type: string): void {
  const link = document.createElement('a')
  link.href = URL.createObjectURL(new Blob([text], { type }))
  link.download = filename
  link.click()
  URL.revokeObjectURL(link.href)
}

/** A file name from user text (a title, an agent name): word characters and dashes only. */
export const safeFileName = (text: string) => text.replace(/[^\w-]+/g, '_')
