export const BUDGET_BYTES: number
export function initialFiles(manifest: Record<string, { file: string; css?: string[]; imports?: string[] }>, entry?: string): string[]
export function initialSize(dist: string): { files: { file: string; raw: number; gzip: number }[]; gzip: number }
