export const BUDGET_BYTES: number
export const BOOT_BUDGET_BYTES: number
export const BOOT_ENTRY: string
export const APP_CHUNK: string
export function initialFiles(manifest: Record<string, { file: string; css?: string[]; imports?: string[] }>, entries?: string[]): string[]
export function initialSize(dist: string, entries?: string[]): { files: { file: string; raw: number; gzip: number }[]; gzip: number }
