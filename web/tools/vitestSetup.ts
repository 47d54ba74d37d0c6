// Runs before every test file (vite.config.ts `test.setupFiles`).
//
// vi.waitFor gives up after 1 s by default. On a loaded 2-core CI machine a lazy component's first
// import (transformed on demand) can take longer than that, and the test fails though the UI is
// right: wait up to 10 s unless a test asks for its own limit.
import { vi } from 'vitest'

const waitFor = vi.waitFor
vi.waitFor = ((callback, options) =>
  waitFor(callback, typeof options === 'number' ? options : { timeout: 10_000, ...options })) as typeof vi.waitFor
