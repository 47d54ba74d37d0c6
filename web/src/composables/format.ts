/** Display formats shared by the screens. */

/** A file or folder size: "0 KB" when empty, at least "1 KB" otherwise, MB from 1 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MB`
  return bytes === 0 ? '0 KB' : `${Math.max(1, Math.round(bytes / 1024))} KB`
}

/** Where a passage comes from: "guide.pdf · p. 3 · Install › Linux" (`page` is translated). */
export function sourceLabel(fileName: string, page: number | null, heading: string | null, pageLabel: (n: number) => string): string {
  return [fileName, page ? pageLabel(page) : null, heading].filter(Boolean).join(' · ')
}
