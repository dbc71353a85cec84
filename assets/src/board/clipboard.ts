// Copy, cut and paste of items through the system clipboard, so that pasting into another board
// (even on another Atelier server) works, and text copied from elsewhere becomes notes.
//
// A copy writes three formats (docs/board-schema.md, "Clipboard"):
//   application/x-atelier+json  {"atelier": 1, "bounds": {x, y, w, h}, "items": [ClipItem, ...]}
//                               (the async Clipboard API writes it as the web custom format
//                               "web application/x-atelier+json")
//   text/html                   the note texts as paragraphs, on an element that carries the same
//                               JSON in its data-atelier-clip attribute (for browsers that keep
//                               no custom formats)
//   text/plain                  the note texts, separated by blank lines
// A paste takes the first of these that is there; plain text becomes one note per paragraph, or
// per line when it has no blank lines. What is pasted lands centred on the pointer, or on the
// centre of the view when the pointer is not over the board or the paste came from a button.
//
// Ctrl/⌘+C, X, V arrive as the browser's copy, cut and paste events (they work on plain http
// too); the toolbar's buttons go through execCommand('copy') or the async Clipboard API, and
// keep the last copy of this tab as a fallback for pasting when reading the clipboard is refused.

import { announce } from '../dom'
import { t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import type { ClipItem } from './items'
import { copyItems, itemBounds, pasteItems, refuse, withCarried, type ItemOps } from './operations'
import { DEFAULT_NOTE_SIZE, round, type NoteColor } from './schema'

export const CLIP_MIME = 'application/x-atelier+json'
const WEB_MIME = `web ${CLIP_MIME}`
const CLIP_VERSION = 1
/** Most items one paste creates. */
const MAX_ITEMS = 2000
/** Most notes one paste of plain text creates, and their longest text. */
const MAX_TEXT_NOTES = 100
const MAX_NOTE_TEXT = 10_000
/** Notes made from text are laid out on a grid with this pitch (board units). */
const TEXT_PITCH: [number, number] = [DEFAULT_NOTE_SIZE[0] + 24, DEFAULT_NOTE_SIZE[1] + 24]
/** Pasting again at the same place shifts each copy by this much. */
const CASCADE = 24

export interface Clip {
  atelier: typeof CLIP_VERSION
  /** Where the items were: they are pasted centred on the target. */
  bounds: Rect
  items: ClipItem[]
}

/** The last copy made in this tab (any board): pasting falls back on it. */
let lastClip: Clip | null = null

export class BoardClipboard {
  /** The pointer over the board (world units), or null when it is elsewhere. */
  private pointer: [number, number] | null = null
  private lastPaste: { key: string, n: number } | null = null
  /** Set while a button's copy goes through execCommand('copy'): that copy is a cut. */
  private cutting = false
  /** Copies written by the copy event handler (to know whether execCommand reached it). */
  private written = 0
  private readonly cleanups: Array<() => void> = []

  /** `root`: the board page; copy and paste apply while the focus is in it. */
  constructor (private readonly ctx: BoardContext, private readonly ops: ItemOps, private readonly root: HTMLElement) {
    const listen = <K extends keyof DocumentEventMap>(target: Document | HTMLElement, type: K, fn: (e: DocumentEventMap[K]) => void): void => {
      target.addEventListener(type, fn as EventListener)
      this.cleanups.push(() => target.removeEventListener(type, fn as EventListener))
    }
    listen(document, 'copy', (e) => this.onCopy(e, false))
    listen(document, 'cut', (e) => this.onCopy(e, true))
    listen(document, 'paste', (e) => this.onPaste(e))
    listen(ctx.canvas.el, 'pointermove', (e) => {
      if (e.pointerType !== 'touch') this.pointer = ctx.canvas.toWorld(e.clientX, e.clientY)
    })
    listen(ctx.canvas.el, 'pointerleave', () => { this.pointer = null })
  }

  destroy (): void {
    for (const off of this.cleanups) off()
  }

  /** Whether a copy or paste event is ours: the focus is on the board, not in a text field. */
  private applies (): boolean {
    const active = document.activeElement
    if (active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement || active instanceof HTMLSelectElement) return false
    if (active instanceof HTMLElement && active.isContentEditable) return false
    const selection = document.getSelection()
    if (selection && !selection.isCollapsed && selection.toString() !== '') return false
    return active === null || active === document.body || this.root.contains(active)
  }

  /** The selection, with what it carries (a cluster's notes), as a clip; null when empty. */
  private clip (): Clip | null {
    const ids = withCarried(this.ctx, this.ops.selected())
    const items = copyItems(this.ctx, ids)
    const bounds = itemBounds(this.ctx, ids)
    return items.length > 0 && bounds ? { atelier: CLIP_VERSION, bounds, items } : null
  }

  private onCopy (e: ClipboardEvent, cutEvent: boolean): void {
    const cut = cutEvent || this.cutting
    if (!e.clipboardData || !this.applies()) return
    const clip = this.clip()
    if (!clip) return
    e.preventDefault()
    if (cut && refuse(this.ctx)) return
    writeTransfer(e.clipboardData, clip)
    lastClip = clip
    this.written++
    this.finish(clip, cut)
  }

  private finish (clip: Clip, cut: boolean): void {
    this.lastPaste = null
    if (cut) this.ops.deleteSelected({ withContents: true, quiet: true })
    announce(t(cut ? 'items.cut' : 'items.copied', { n: clip.items.length }))
  }

  private onPaste (e: ClipboardEvent): void {
    if (!e.clipboardData || !this.applies()) return
    const clip = readTransfer(e.clipboardData, this.ctx.noteColor)
    // Neither ours nor text (an image, files): left to whoever handles those.
    if (!clip) return
    e.preventDefault()
    this.paste(clip, this.pointer)
  }

  /** Pastes a clip centred on `at` (default: the centre of the view); selects what it made. */
  paste (clip: Clip, at: [number, number] | null = null): string[] {
    if (refuse(this.ctx)) return []
    const [tx, ty] = at ?? this.ctx.canvas.center()
    const b = clip.bounds
    let dx = round(tx - (b.x + b.w / 2))
    let dy = round(ty - (b.y + b.h / 2))
    // Pasting again at the same place (or right over the originals) cascades, so that no copy
    // hides another.
    const key = `${Math.round(tx)},${Math.round(ty)},${b.x},${b.y},${b.w},${b.h}`
    const n = this.lastPaste?.key === key ? this.lastPaste.n + 1 : Math.abs(dx) < 1 && Math.abs(dy) < 1 ? 1 : 0
    this.lastPaste = { key, n }
    dx += n * CASCADE
    dy += n * CASCADE
    const { ids } = pasteItems(this.ctx, clip.items.slice(0, MAX_ITEMS), dx, dy)
    if (ids.length === 0) {
      announce(t('items.nothingToPaste'))
      return ids
    }
    this.ctx.selection.set(ids)
    const bounds = itemBounds(this.ctx, ids)
    if (bounds) this.ctx.canvas.reveal(bounds)
    announce(t('items.pasted', { n: ids.length }))
    return ids
  }

  // ---- the toolbar's buttons -------------------------------------------------------------

  /** Copies (or cuts) the selection from a button: no clipboard event comes with a click. */
  async copySelection (cut = false): Promise<void> {
    const clip = this.clip()
    if (!clip) return
    if (cut && refuse(this.ctx)) return
    lastClip = clip
    // execCommand fires a copy event (handled above, which also cuts) and works on plain http
    // too; it needs the click's user activation, which an await would lose, so it goes first.
    const before = this.written
    this.cutting = cut
    try {
      document.execCommand('copy')
    } catch { /* not supported */ } finally {
      this.cutting = false
    }
    if (this.written > before) return
    try {
      await writeClipboard(clip)
    } catch { /* refused: this tab's copy still pastes */ }
    this.finish(clip, cut)
  }

  /** Pastes from a button: reads the clipboard (if the browser lets us), else this tab's last copy. */
  async pasteFromClipboard (): Promise<void> {
    if (refuse(this.ctx)) return
    let clip: Clip | null = null
    let denied = false
    try {
      clip = await readClipboard(this.ctx.noteColor)
    } catch {
      denied = true
    }
    clip ??= lastClip
    if (!clip) {
      announce(denied ? t('items.pasteDenied') : t('items.nothingToPaste'))
      return
    }
    this.paste(clip)
  }
}

// ---- formats ---------------------------------------------------------------------------------

/** The note texts of a clip, separated by blank lines (pasting them back makes the same notes). */
export function clipText (clip: Clip): string {
  return clip.items.map((item) => item.text?.trim() ?? '').filter((text) => text !== '').join('\n\n')
}

/** The note texts as paragraphs, on an element carrying the clip's JSON. */
export function clipHtml (clip: Clip, json = JSON.stringify(clip)): string {
  const root = document.createElement('div')
  root.setAttribute('data-atelier-clip', json)
  for (const item of clip.items) {
    const text = item.text?.trim()
    if (!text) continue
    const p = document.createElement('p')
    text.split('\n').forEach((line, i) => {
      if (i > 0) p.append(document.createElement('br'))
      p.append(line)
    })
    root.append(p)
  }
  return root.outerHTML
}

function writeTransfer (data: DataTransfer, clip: Clip): void {
  const json = JSON.stringify(clip)
  data.setData('text/plain', clipText(clip))
  data.setData('text/html', clipHtml(clip, json))
  data.setData(CLIP_MIME, json)
}

function readTransfer (data: DataTransfer, color: NoteColor): Clip | null {
  return parseClip(data.getData(CLIP_MIME)) ??
    clipFromHtml(data.getData('text/html')) ??
    clipFromText(data.getData('text/plain'), color)
}

async function writeClipboard (clip: Clip): Promise<void> {
  const json = JSON.stringify(clip)
  const blob = (text: string, type: string): Blob => new Blob([text], { type })
  const parts: Record<string, Blob> = {
    'text/plain': blob(clipText(clip), 'text/plain'),
    'text/html': blob(clipHtml(clip, json), 'text/html')
  }
  if (typeof ClipboardItem.supports === 'function' && ClipboardItem.supports(WEB_MIME)) parts[WEB_MIME] = blob(json, CLIP_MIME)
  await navigator.clipboard.write([new ClipboardItem(parts)])
}

/** Reads the system clipboard; throws when the browser does not let us. */
async function readClipboard (color: NoteColor): Promise<Clip | null> {
  if (!navigator.clipboard) throw new Error('no clipboard access (insecure context)')
  if (typeof navigator.clipboard.read !== 'function') return clipFromText(await navigator.clipboard.readText(), color)
  for (const item of await navigator.clipboard.read()) {
    const text = async (type: string): Promise<string> => item.types.includes(type) ? await (await item.getType(type)).text() : ''
    const clip = parseClip(await text(WEB_MIME)) ?? clipFromHtml(await text('text/html')) ?? clipFromText(await text('text/plain'), color)
    if (clip) return clip
  }
  return null
}

/** A clip from its JSON, checked for shape (each layer checks its own items' data). */
export function parseClip (json: string): Clip | null {
  if (!json) return null
  let value: unknown
  try { value = JSON.parse(json) } catch { return null }
  if (!value || typeof value !== 'object') return null
  const v = value as { atelier?: unknown, bounds?: unknown, items?: unknown }
  if (v.atelier !== CLIP_VERSION || !Array.isArray(v.items)) return null
  const b = v.bounds as Record<string, unknown> | null
  const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n)
  if (!b || typeof b !== 'object' || !finite(b.x) || !finite(b.y) || !finite(b.w) || !finite(b.h)) return null
  const items: ClipItem[] = []
  for (const raw of v.items.slice(0, MAX_ITEMS)) {
    if (!raw || typeof raw !== 'object') continue
    const item = raw as Record<string, unknown>
    if (typeof item.layer !== 'string') continue
    items.push({
      layer: item.layer,
      id: typeof item.id === 'string' ? item.id : undefined,
      data: item.data,
      text: typeof item.text === 'string' ? item.text : undefined
    })
  }
  return items.length > 0 ? { atelier: CLIP_VERSION, bounds: { x: b.x, y: b.y, w: b.w, h: b.h }, items } : null
}

function clipFromHtml (html: string): Clip | null {
  if (!html || !html.includes('data-atelier-clip')) return null
  // DOMParser builds an inert document: nothing in it runs or loads.
  const doc = new DOMParser().parseFromString(html, 'text/html')
  return parseClip(doc.querySelector('[data-atelier-clip]')?.getAttribute('data-atelier-clip') ?? '')
}

/**
 * Text from elsewhere as notes: one per paragraph (blank lines between them), or one per line
 * when there are no blank lines; list markers ("- ", "• ", "1. ") are dropped.
 */
export function textToNotes (text: string): string[] {
  const clean = text.replace(/\r\n?/g, '\n').trim()
  if (clean === '') return []
  const parts = /\n[ \t]*\n/.test(clean) ? clean.split(/\n[ \t]*\n+/) : clean.split('\n')
  return parts
    .map((part) => part.trim().replace(/^(?:[-*•–]|\d{1,3}[.)])\s+/, '').trim())
    .filter((part) => part !== '')
    .slice(0, MAX_TEXT_NOTES)
    .map((part) => part.slice(0, MAX_NOTE_TEXT))
}

/** Notes (in the notes layer's clip format) laid out on a grid, from plain text. */
export function clipFromText (text: string, color: NoteColor): Clip | null {
  const texts = textToNotes(text)
  if (texts.length === 0) return null
  const cols = Math.ceil(Math.sqrt(texts.length))
  const rows = Math.ceil(texts.length / cols)
  const [w, h] = DEFAULT_NOTE_SIZE
  const items: ClipItem[] = texts.map((note, i) => ({
    layer: 'notes',
    data: { x: (i % cols) * TEXT_PITCH[0], y: Math.floor(i / cols) * TEXT_PITCH[1], w, h, color, text: note },
    text: note
  }))
  return {
    atelier: CLIP_VERSION,
    bounds: { x: 0, y: 0, w: (cols - 1) * TEXT_PITCH[0] + w, h: (rows - 1) * TEXT_PITCH[1] + h },
    items
  }
}
