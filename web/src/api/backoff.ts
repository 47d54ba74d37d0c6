/** Exponential backoff with a cap: 0.25 s, 0.5 s, 1 s, 2 s, 4 s, 5 s, 5 s, ... */
export function backoffDelay(attempt: number, baseMs = 250, capMs = 5000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt))
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
