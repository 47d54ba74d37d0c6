import { describe, expect, it } from 'vitest'

import { documentParams, fitWidthScale, MAX_SCALE, MIN_SCALE, pdfFailure, zoomStep } from './pdfjs'

describe('the PDF preview helpers', () => {
  it('steps the zoom up and down, and stays within its bounds', () => {
    expect(zoomStep(1, 1)).toBe(1.1)
    expect(zoomStep(1, -1)).toBe(0.9)
    expect(zoomStep(1.17, 1)).toBe(1.25) // from a fitted scale, to the next step
    expect(zoomStep(1.17, -1)).toBe(1.1)
    expect(zoomStep(MAX_SCALE, 1)).toBe(MAX_SCALE)
    expect(zoomStep(MIN_SCALE, -1)).toBe(MIN_SCALE)
  })

  it('fits a page to the width available, within the zoom bounds', () => {
    expect(fitWidthScale(918, 612)).toBe(1.5)
    expect(fitWidthScale(100, 612)).toBe(MIN_SCALE)
    expect(fitWidthScale(99_999, 612)).toBe(MAX_SCALE)
    expect(fitWidthScale(0, 612)).toBe(1) // not laid out yet
  })

  it('tells a password from damage', () => {
    expect(pdfFailure(Object.assign(new Error('x'), { name: 'PasswordException' }))).toBe('encrypted')
    expect(pdfFailure(Object.assign(new Error('x'), { name: 'InvalidPDFException' }))).toBe('damaged')
    expect(pdfFailure(null)).toBe('damaged')
  })

  it('opens from bytes with no eval and nothing fetched', () => {
    const data = new Uint8Array([37])
    expect(documentParams(data)).toEqual({
      data, isEvalSupported: false, useWasm: false, enableXfa: false, disableAutoFetch: true, disableStream: true,
      useWorkerFetch: false, maxImageSize: 64 * 1024 * 1024,
    })
  })
})
