/** Save a file through the webview's download mechanism. */
export function downloadBlob(filename: string, blob: Blob): void {
  const link = document.createElement('a')
  link.href = URL.createObjectURL(blob)
  link.download = filename
  link.click()
  URL.revokeObjectURL(link.href)
}

/** Save generated text as a file. */
export function downloadText(filename: string, text: string, type: string): void {
  downloadBlob(filename, new Blob([text], { type }))
}

/** A file name from user text (a title, an agent name): word characters and dashes only. */
export const safeFileName = (text: string) => text.replace(/[^\w-]+/g, '_')
