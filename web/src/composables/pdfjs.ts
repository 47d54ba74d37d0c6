/**
 * pdf.js for the workspace's PDF preview (components/PdfPreview.vue), loaded only when a PDF is
 * opened: the library and its worker are chunks of their own, served by the app itself (nothing
 * comes from the internet), so the initial route does not carry them. The worker parses the file;
 * the window only paints pages into canvases. This replaced a `blob:` frame, which WebKitGTK
 * leaves blank in the desktop app (docs/desktop.md, "PDF previews").
 */
export type Pdfjs = typeof import('pdfjs-dist')
type DocumentParams = Exclude<Parameters<Pdfjs['getDocument']>[0], string | URL | ArrayBuffer | Uint8Array | undefined>

/** Images past this many pixels are not drawn (a hostile file's huge image costs no memory). */
const MAX_IMAGE_PIXELS = 64 * 1024 * 1024

let loading: Promise<Pdfjs> | null = null

/** The library, its worker set up (once; a failed load is tried again next time). */
export function loadPdfjs(): Promise<Pdfjs> {
  loading ??= Promise.all([import('pdfjs-dist'), import('pdfjs-dist/build/pdf.worker.min.mjs?url')])
    .then(([lib, worker]) => {
      lib.GlobalWorkerOptions.workerSrc = worker.default
      return lib
    })
    .catch((error: unknown) => {
      loading = null
      throw error
    })
  return loading
}

/** How a file is opened: from bytes already fetched, with nothing evaluated as code (the CSP has no
 * `unsafe-eval`, nor `wasm-unsafe-eval`) and nothing fetched (no range requests, no CMaps, font
 * data or WebAssembly decoders from elsewhere). */
export function documentParams(data: Uint8Array): DocumentParams {
  return {
    data,
    isEvalSupported: false,
    useWasm: false,
    enableXfa: false,
    disableAutoFetch: true,
    disableStream: true,
    useWorkerFetch: false,
    maxImageSize: MAX_IMAGE_PIXELS,
  }
}

export type PdfFailure = 'encrypted' | 'damaged'

/** What went wrong opening a file, as the preview words it: a password (PasswordException), or
 * anything else pdf.js refuses (InvalidPDFException, a broken structure). */
export function pdfFailure(error: unknown): PdfFailure {
  return (error as { name?: unknown } | null)?.name === 'PasswordException' ? 'encrypted' : 'damaged'
}

export const MIN_SCALE = 0.25
export const MAX_SCALE = 4
const STEPS = [0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4]

/** The next zoom step above (`direction` 1) or below (-1) `scale`. */
export function zoomStep(scale: number, direction: 1 | -1): number {
  const next = direction > 0 ? STEPS.find((s) => s > scale + 0.001) : [...STEPS].reverse().find((s) => s < scale - 0.001)
  return next ?? (direction > 0 ? MAX_SCALE : MIN_SCALE)
}

/** The scale at which a page `pageWidth` points wide fills `available` CSS pixels. */
export function fitWidthScale(available: number, pageWidth: number): number {
  if (available <= 0 || pageWidth <= 0) return 1
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, available / pageWidth))
}
