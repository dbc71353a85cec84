// Sticky notes on the canvas: rendering from the shared document, and everything one does to
// them: create (double click / double tap / N), select, drag, resize, edit the text together
// (Y.Text), colour, bring to front, duplicate, delete; keyboard and screen-reader access.

import * as Y from 'yjs'
import { announce, h } from '../dom'
import { colorLabel, t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import {
  DEFAULT_NOTE_SIZE, isNote, makeNote, MAX_NOTE_SIZE, MIN_NOTE_SIZE, newId, NOTE, noteText, notesOf,
  readNote, setWH, setXY, zBetween, zCompare, clamp, type NoteColor, type NoteData, type NoteMap
} from './schema'
import { LOCAL } from './sync'
import { bindTextarea } from './textbinding'

const DOUBLE_TAP_MS = 400
const DRAG_SLOP = 4
/** Keyboard moves, in board units (with Shift: five times more). */
const KEY_STEP = 16

interface View {
  el: HTMLElement
  text: HTMLElement
  data: NoteData | null
}

interface Editing {
  id: string
  textarea: HTMLTextAreaElement
  unbind: () => void
}

export class NotesLayer {
  readonly layer: HTMLElement
  private readonly notes: Y.Map<NoteMap>
  private readonly views = new Map<string, View>()
  private order: string[] = []
  private dirty = new Set<string>()
  private frame = 0
  private editing: Editing | null = null
  private lastTap: { id: string, t: number } | null = null
  private readonly listeners = new Set<() => void>()
  private readonly hintId = 'note-keyboard-hint'
  private readonly unobserve: () => void
  /** Colours of other participants' selections, by note id (from presence). */
  private remoteSelections = new Map<string, string>()

  constructor (private readonly ctx: BoardContext) {
    this.notes = notesOf(ctx.doc)
    this.layer = h('div', { class: 'notes-layer' })
    ctx.canvas.world.append(this.layer)
    ctx.canvas.el.append(h('p', { id: this.hintId, class: 'visually-hidden' }, t('note.keyboardHint')))
    const observer = (events: Array<Y.YEvent<any>>, tr: Y.Transaction): void => {
      for (const event of events) {
        if (event.target === this.notes) {
          for (const key of (event as Y.YMapEvent<NoteMap>).keysChanged) this.dirty.add(key)
        } else if (event.path.length > 0) {
          this.dirty.add(String(event.path[0]))
        }
      }
      // Our own changes render at once (a new note can be edited right away); others' on the
      // next frame, batched.
      if (tr.local) this.flush()
      else this.schedule()
    }
    this.notes.observeDeep(observer)
    this.unobserve = () => this.notes.unobserveDeep(observer)
    for (const id of this.notes.keys()) this.dirty.add(id)
    this.flush()
    ctx.selection.onChange(() => this.renderSelection())
    this.layer.addEventListener('focusin', (e) => {
      const id = noteIdOf(e.target)
      if (id && !ctx.selection.has(id) && !(e.target instanceof HTMLTextAreaElement)) ctx.selection.set([id])
    })
  }

  destroy (): void {
    this.stopEditing()
    this.unobserve()
    cancelAnimationFrame(this.frame)
  }

  /** Called after the set of notes or their content changed (outline, zoom to fit). */
  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Every note, bottom to top. */
  all (): NoteData[] {
    return this.order.map((id) => this.views.get(id)?.data).filter((d): d is NoteData => !!d)
  }

  get (id: string): NoteData | null { return this.views.get(id)?.data ?? null }

  element (id: string): HTMLElement | null { return this.views.get(id)?.el ?? null }

  bounds (ids?: string[]): Rect | null {
    const list = ids ? ids.map((id) => this.get(id)).filter((d): d is NoteData => !!d) : this.all()
    if (list.length === 0) return null
    const x0 = Math.min(...list.map((n) => n.x))
    const y0 = Math.min(...list.map((n) => n.y))
    const x1 = Math.max(...list.map((n) => n.x + n.w))
    const y1 = Math.max(...list.map((n) => n.y + n.h))
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
  }

  /** Notes that intersect a world rectangle. */
  inRect (r: Rect): string[] {
    return this.all().filter((n) => n.x < r.x + r.w && n.x + n.w > r.x && n.y < r.y + r.h && n.y + n.h > r.y).map((n) => n.id)
  }

  private topZ (): string | null {
    const last = this.order.at(-1)
    const z = last ? this.views.get(last)?.data?.z : undefined
    return z || null
  }

  // ---- rendering -------------------------------------------------------------------------

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush() })
  }

  private flush (): void {
    cancelAnimationFrame(this.frame)
    this.frame = 0
    if (this.dirty.size === 0) return
    let reorder = false
    for (const id of this.dirty) {
      const note = this.notes.get(id)
      const view = this.views.get(id)
      if (!isNote(note)) {
        if (view) {
          if (this.editing?.id === id) this.stopEditing()
          view.el.remove()
          this.views.delete(id)
          reorder = true
        }
        continue
      }
      const data = readNote(id, note)
      const v = view ?? this.createView(id)
      if (!view) reorder = true
      if (v.data?.z !== data.z) reorder = true
      this.renderNote(v, data)
    }
    this.dirty.clear()
    if (reorder) this.reorder()
    this.ctx.selection.retain((id) => this.views.has(id))
    for (const fn of this.listeners) fn()
  }

  private reorder (): void {
    const items = [...this.views.values()].map((v) => v.data).filter((d): d is NoteData => !!d)
    items.sort(zCompare)
    const next = items.map((d) => d.id)
    if (next.join() === this.order.join() && this.layer.childElementCount === next.length) return
    this.order = next
    // DOM order is stacking order (and Tab order). Moving the focused note would blur it.
    const focused = document.activeElement
    next.forEach((id, i) => {
      const el = this.views.get(id)?.el
      if (el && this.layer.children[i] !== el) this.layer.insertBefore(el, this.layer.children[i] ?? null)
    })
    if (focused instanceof HTMLElement && focused !== document.activeElement && this.layer.contains(focused)) focused.focus({ preventScroll: true })
  }

  private createView (id: string): View {
    const text = h('div', { class: 'note-text' })
    const resize = h('div', { class: 'note-resize', 'aria-hidden': 'true' })
    const el = h('div', {
      class: 'note',
      tabindex: '0',
      role: 'group',
      'data-note-id': id,
      'aria-describedby': this.hintId
    }, text, resize)
    el.setAttribute('aria-roledescription', t('note.role'))
    el.addEventListener('pointerdown', (e) => this.onPointerDown(id, e))
    resize.addEventListener('pointerdown', (e) => this.onResizeDown(id, e))
    const view: View = { el, text, data: null }
    this.views.set(id, view)
    this.layer.append(el)
    return view
  }

  private renderNote (v: View, d: NoteData): void {
    const prev = v.data
    v.data = d
    const el = v.el
    if (!prev || prev.x !== d.x || prev.y !== d.y) el.style.transform = `translate(${d.x}px, ${d.y}px)`
    if (!prev || prev.w !== d.w) el.style.width = `${d.w}px`
    if (!prev || prev.h !== d.h) el.style.height = `${d.h}px`
    if (!prev || prev.color !== d.color) el.dataset.color = d.color
    if (!prev || prev.text !== d.text || prev.w !== d.w || prev.h !== d.h) {
      if (this.editing?.id !== d.id) v.text.textContent = d.text
      el.style.setProperty('--note-font', `${fitFontSize(d)}px`)
    }
    el.classList.toggle('empty', d.text.trim() === '')
    this.label(v)
  }

  private label (v: View): void {
    const d = v.data
    if (!d) return
    const text = d.text.trim()
    const parts = [text === '' ? t('note.empty') : excerpt(text, 140), colorLabel(d.color)]
    if (this.ctx.selection.has(d.id)) parts.push(t('note.selected'))
    v.el.setAttribute('aria-label', parts.join(', '))
  }

  /** Re-labels every note (language change). */
  relabel (): void {
    for (const v of this.views.values()) {
      v.el.setAttribute('aria-roledescription', t('note.role'))
      this.label(v)
    }
    const hint = document.getElementById(this.hintId)
    if (hint) hint.textContent = t('note.keyboardHint')
  }

  private renderSelection (): void {
    for (const [id, v] of this.views) {
      const selected = this.ctx.selection.has(id)
      if (v.el.classList.contains('selected') !== selected) {
        v.el.classList.toggle('selected', selected)
        this.label(v)
      }
    }
  }

  /** Shows which notes others have selected (colour ring), from presence. */
  showRemoteSelections (byNote: Map<string, string>): void {
    for (const id of this.remoteSelections.keys()) {
      if (!byNote.has(id)) {
        const el = this.views.get(id)?.el
        el?.classList.remove('remote-selected')
        el?.style.removeProperty('--remote-color')
      }
    }
    for (const [id, color] of byNote) {
      const el = this.views.get(id)?.el
      if (!el) continue
      el.classList.add('remote-selected')
      el.style.setProperty('--remote-color', color)
    }
    this.remoteSelections = byNote
  }

  // ---- changes ---------------------------------------------------------------------------

  private transact (fn: () => void): void {
    this.ctx.doc.transact(fn, LOCAL)
  }

  private refuse (): boolean {
    if (this.ctx.canEdit()) return false
    announce(t('board.readOnlyAnnounce'))
    return true
  }

  /** Creates a note centred on (x, y) and starts editing it. Returns its id. */
  create (x: number, y: number, { edit = true } = {}): string | null {
    if (this.refuse()) return null
    const id = newId()
    const [w, hgt] = DEFAULT_NOTE_SIZE
    this.ctx.undo.stopCapturing()
    this.transact(() => {
      this.notes.set(id, makeNote({ x: x - w / 2, y: y - hgt / 2, z: zBetween(this.topZ(), null), color: this.ctx.noteColor, createdBy: this.ctx.participantId }))
    })
    this.ctx.undo.stopCapturing()
    this.ctx.selection.set([id])
    if (edit) this.startEditing(id)
    else this.element(id)?.focus({ preventScroll: true })
    announce(t('note.created'))
    return id
  }

  deleteSelected (): void {
    const ids = this.ctx.selection.list().filter((id) => this.views.has(id))
    if (ids.length === 0 || this.refuse()) return
    this.ctx.undo.stopCapturing()
    this.transact(() => { for (const id of ids) this.notes.delete(id) })
    this.ctx.selection.clear()
    this.ctx.canvas.el.focus({ preventScroll: true })
    announce(t('note.deleted', { n: ids.length }))
  }

  moveSelected (dx: number, dy: number): void {
    const ids = this.ctx.selection.list()
    if (ids.length === 0 || this.refuse()) return
    this.transact(() => {
      for (const id of ids) {
        const note = this.notes.get(id)
        const d = this.get(id)
        if (note && d) setXY(note, d.x + dx, d.y + dy)
      }
    })
    const b = this.bounds(ids)
    if (b) this.ctx.canvas.reveal(b)
  }

  resizeSelected (dw: number, dh: number): void {
    const ids = this.ctx.selection.list()
    if (ids.length === 0 || this.refuse()) return
    this.transact(() => {
      for (const id of ids) {
        const note = this.notes.get(id)
        const d = this.get(id)
        if (note && d) setWH(note, d.w + dw, d.h + dh)
      }
    })
  }

  colorSelected (color: NoteColor): void {
    this.ctx.noteColor = color
    const ids = this.ctx.selection.list()
    if (ids.length === 0 || this.refuse()) return
    this.ctx.undo.stopCapturing()
    this.transact(() => { for (const id of ids) this.notes.get(id)?.set(NOTE.color, color) })
    announce(t('note.colored', { color: colorLabel(color) }))
  }

  bringToFront (): void {
    const ids = this.ctx.selection.list().map((id) => this.get(id)).filter((d): d is NoteData => !!d).sort(zCompare).map((d) => d.id)
    if (ids.length === 0 || this.refuse()) return
    this.ctx.undo.stopCapturing()
    this.transact(() => {
      let z = this.topZ()
      for (const id of ids) {
        z = zBetween(z, null)
        this.notes.get(id)?.set(NOTE.z, z)
      }
    })
  }

  duplicateSelected (): void {
    const sources = this.ctx.selection.list().map((id) => this.get(id)).filter((d): d is NoteData => !!d).sort(zCompare)
    if (sources.length === 0 || this.refuse()) return
    const created: string[] = []
    this.ctx.undo.stopCapturing()
    this.transact(() => {
      let z = this.topZ()
      for (const d of sources) {
        z = zBetween(z, null)
        const id = newId()
        created.push(id)
        this.notes.set(id, makeNote({ x: d.x + 24, y: d.y + 24, w: d.w, h: d.h, color: d.color, text: d.text, z, createdBy: this.ctx.participantId }))
      }
    })
    this.ctx.selection.set(created)
    announce(t('note.duplicated', { n: created.length }))
  }

  selectAll (): void {
    this.ctx.selection.set(this.order)
  }

  // ---- editing ---------------------------------------------------------------------------

  isEditing (): boolean { return this.editing !== null }

  startEditing (id: string): void {
    if (this.refuse()) return
    const view = this.views.get(id)
    const note = this.notes.get(id)
    const text = note ? noteText(note) : null
    if (!view || !text) return
    if (this.editing?.id === id) { this.editing.textarea.focus(); return }
    this.stopEditing()
    const textarea = h('textarea', { class: 'note-editor', 'aria-label': t('note.editLabel'), spellcheck: 'true' })
    view.text.hidden = true
    view.el.classList.add('editing')
    view.el.insertBefore(textarea, view.text)
    this.ctx.undo.stopCapturing()
    const unbind = bindTextarea(this.ctx.doc, text, textarea)
    this.editing = { id, textarea, unbind }
    textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault()
        this.stopEditing(true)
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
        // The board's undo (one's own changes, shared), not the textarea's.
        e.preventDefault()
        if (e.shiftKey) this.ctx.undo.redo()
        else this.ctx.undo.undo()
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'y') {
        e.preventDefault()
        this.ctx.undo.redo()
      }
      e.stopPropagation()
    })
    textarea.addEventListener('blur', () => { if (this.editing?.textarea === textarea) this.stopEditing() })
    textarea.addEventListener('pointerdown', (e) => e.stopPropagation())
    textarea.focus({ preventScroll: true })
    textarea.setSelectionRange(textarea.value.length, textarea.value.length)
    this.ctx.canvas.reveal({ x: view.data?.x ?? 0, y: view.data?.y ?? 0, w: view.data?.w ?? 0, h: view.data?.h ?? 0 })
  }

  stopEditing (refocus = false): void {
    const e = this.editing
    if (!e) return
    this.editing = null
    e.unbind()
    this.ctx.undo.stopCapturing()
    const view = this.views.get(e.id)
    e.textarea.remove()
    if (view) {
      view.el.classList.remove('editing')
      view.text.hidden = false
      view.text.textContent = view.data?.text ?? ''
      if (refocus) view.el.focus({ preventScroll: true })
    }
  }

  // ---- pointer ---------------------------------------------------------------------------

  private onPointerDown (id: string, e: PointerEvent): void {
    const canvas = this.ctx.canvas
    if (e.button !== 0 || canvas.spacePanning || this.editing?.id === id) return
    const sel = this.ctx.selection
    if (e.shiftKey || e.ctrlKey || e.metaKey) sel.toggle(id)
    else if (!sel.has(id)) sel.set([id])
    const view = this.views.get(id)
    const editable = this.ctx.canEdit()
    const movers = sel.has(id) ? sel.list() : []
    const starts = new Map(movers.map((m) => [m, this.get(m)]).filter((p): p is [string, NoteData] => !!p[1]))
    const sx = e.clientX
    const sy = e.clientY
    let moved = false
    let pending: { dx: number, dy: number } | null = null
    let frame = 0
    const apply = (): void => {
      frame = 0
      if (!pending) return
      const { dx, dy } = pending
      pending = null
      this.transact(() => {
        for (const [m, d] of starts) {
          const note = this.notes.get(m)
          if (note) setXY(note, d.x + dx, d.y + dy)
        }
      })
    }
    const claimed = canvas.claim(e, {
      move: (ev) => {
        if (!editable) return
        if (!moved && Math.hypot(ev.clientX - sx, ev.clientY - sy) < DRAG_SLOP) return
        if (!moved) {
          moved = true
          this.ctx.undo.stopCapturing()
          view?.el.classList.add('dragging')
        }
        const s = canvas.view.scale
        pending = { dx: (ev.clientX - sx) / s, dy: (ev.clientY - sy) / s }
        if (!frame) frame = requestAnimationFrame(apply)
      },
      end: () => {
        cancelAnimationFrame(frame)
        apply()
        view?.el.classList.remove('dragging')
        if (moved) {
          this.ctx.undo.stopCapturing()
          return
        }
        const now = performance.now()
        if (this.lastTap?.id === id && now - this.lastTap.t < DOUBLE_TAP_MS) {
          this.lastTap = null
          if (editable) this.startEditing(id)
        } else {
          this.lastTap = { id, t: now }
        }
      },
      cancel: () => {
        cancelAnimationFrame(frame)
        view?.el.classList.remove('dragging')
      }
    })
    if (claimed) {
      e.preventDefault()
      view?.el.focus({ preventScroll: true })
    }
  }

  private onResizeDown (id: string, e: PointerEvent): void {
    if (e.button !== 0 || !this.ctx.canEdit()) return
    e.stopPropagation()
    const d = this.get(id)
    const note = this.notes.get(id)
    if (!d || !note) return
    this.ctx.selection.set([id])
    const sx = e.clientX
    const sy = e.clientY
    let frame = 0
    let next: [number, number] | null = null
    const apply = (): void => {
      frame = 0
      if (next) this.transact(() => setWH(note, next![0], next![1]))
      next = null
    }
    this.ctx.undo.stopCapturing()
    if (this.ctx.canvas.claim(e, {
      move: (ev) => {
        const s = this.ctx.canvas.view.scale
        next = [clamp(d.w + (ev.clientX - sx) / s, MIN_NOTE_SIZE[0], MAX_NOTE_SIZE[0]), clamp(d.h + (ev.clientY - sy) / s, MIN_NOTE_SIZE[1], MAX_NOTE_SIZE[1])]
        if (!frame) frame = requestAnimationFrame(apply)
      },
      end: () => { cancelAnimationFrame(frame); apply(); this.ctx.undo.stopCapturing() },
      cancel: () => cancelAnimationFrame(frame)
    })) e.preventDefault()
  }

  // ---- keyboard --------------------------------------------------------------------------

  /** Keys on the board outside text fields; returns true when handled. */
  handleKey (e: KeyboardEvent): boolean {
    const focusedId = noteIdOf(e.target)
    const step = e.shiftKey ? KEY_STEP * 5 : KEY_STEP
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }
    const mod = e.ctrlKey || e.metaKey
    if (e.key in arrows && this.ctx.selection.size > 0 && !mod) {
      const [dx, dy] = arrows[e.key]
      if (e.altKey) this.resizeSelected(dx * step, dy * step)
      else this.moveSelected(dx * step, dy * step)
      return true
    }
    if ((e.key === 'Enter' || e.key === 'F2') && focusedId) {
      this.startEditing(focusedId)
      return true
    }
    if ((e.key === 'Delete' || e.key === 'Backspace') && this.ctx.selection.size > 0) {
      this.deleteSelected()
      return true
    }
    if (e.key === 'Escape' && this.ctx.selection.size > 0) {
      this.ctx.selection.clear()
      this.ctx.canvas.el.focus({ preventScroll: true })
      return true
    }
    if (mod && e.key.toLowerCase() === 'a') { this.selectAll(); return true }
    if (mod && e.key.toLowerCase() === 'd') { this.duplicateSelected(); return true }
    if (!mod && !e.altKey && e.key.toLowerCase() === 'n') {
      const [x, y] = this.ctx.canvas.center()
      this.create(x, y)
      return true
    }
    return false
  }
}

export function noteIdOf (target: EventTarget | null): string | null {
  const el = (target as Element | null)?.closest?.('.note')
  return el instanceof HTMLElement ? el.dataset.noteId ?? null : null
}

function excerpt (text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** A font size (board units) that lets the text fill the note without overflowing. */
export function fitFontSize (d: { text: string, w: number, h: number }): number {
  const padding = 24
  const width = Math.max(1, d.w - padding)
  const area = width * Math.max(1, d.h - padding)
  const lines = d.text.split('\n').length
  const chars = Math.max(12, d.text.length + lines * 8)
  // A character takes about 0.55 em × 1.3 em; the longest word must fit on one line.
  const em = Math.sqrt(area / (chars * 0.55 * 1.3))
  const longest = Math.max(1, ...d.text.split(/\s+/).map((word) => word.length))
  return Math.round(clamp(Math.min(em, width / (longest * 0.62)), 12, 28))
}
