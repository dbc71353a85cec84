// Binds a <textarea> to a Y.Text: local typing becomes minimal inserts and deletes (so two
// people typing in one note merge character by character), remote changes update the textarea
// and move its caret and selection with the text around them.

import * as Y from 'yjs'
import { LOCAL } from './sync'

/** Applies the difference between the Y.Text's content and `next` as one local change. */
export function applyDiff (doc: Y.Doc, text: Y.Text, next: string): void {
  const before = text.toString()
  if (before === next) return
  let start = 0
  const max = Math.min(before.length, next.length)
  while (start < max && before.charCodeAt(start) === next.charCodeAt(start)) start++
  // Never split a surrogate pair.
  if (start > 0 && isHighSurrogate(before.charCodeAt(start - 1))) start--
  let endBefore = before.length
  let endNext = next.length
  while (endBefore > start && endNext > start && before.charCodeAt(endBefore - 1) === next.charCodeAt(endNext - 1)) {
    endBefore--
    endNext--
  }
  if (endBefore < before.length && isLowSurrogate(before.charCodeAt(endBefore))) {
    endBefore++
    endNext++
  }
  doc.transact(() => {
    if (endBefore > start) text.delete(start, endBefore - start)
    if (endNext > start) text.insert(start, next.slice(start, endNext))
  }, LOCAL)
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff

/** Where a position moves through a Y.Text delta. */
export function transformPosition (pos: number, delta: Array<{ insert?: unknown, retain?: number, delete?: number }>): number {
  let index = 0
  let out = pos
  for (const op of delta) {
    if (op.retain !== undefined) {
      index += op.retain
    } else if (op.insert !== undefined) {
      const len = typeof op.insert === 'string' ? op.insert.length : 1
      if (index < out) out += len
      index += len
    } else if (op.delete !== undefined) {
      if (index < out) out -= Math.min(op.delete, out - index)
    }
    if (index > out) break
  }
  return out
}

export function bindTextarea (doc: Y.Doc, text: Y.Text, textarea: HTMLTextAreaElement): () => void {
  textarea.value = text.toString()
  let composing = false
  const onInput = (): void => { if (!composing) applyDiff(doc, text, textarea.value) }
  const onCompositionStart = (): void => { composing = true }
  const onCompositionEnd = (): void => {
    composing = false
    applyDiff(doc, text, textarea.value)
  }
  const observer = (event: Y.YTextEvent, tr: Y.Transaction): void => {
    if (tr.origin === LOCAL && textarea.value === text.toString()) return
    if (composing) return // applied when the composition ends (the diff merges both)
    const delta = event.delta as Array<{ insert?: unknown, retain?: number, delete?: number }>
    const focused = document.activeElement === textarea
    const start = transformPosition(textarea.selectionStart, delta)
    const end = transformPosition(textarea.selectionEnd, delta)
    textarea.value = text.toString()
    if (focused) textarea.setSelectionRange(start, end)
  }
  textarea.addEventListener('input', onInput)
  textarea.addEventListener('compositionstart', onCompositionStart)
  textarea.addEventListener('compositionend', onCompositionEnd)
  text.observe(observer)
  return () => {
    textarea.removeEventListener('input', onInput)
    textarea.removeEventListener('compositionstart', onCompositionStart)
    textarea.removeEventListener('compositionend', onCompositionEnd)
    text.unobserve(observer)
  }
}
