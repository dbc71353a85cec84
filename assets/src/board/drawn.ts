// What the drawing layers (strokes, shapes, frames) share: rendering a top-level map of items
// into elements of the canvas world (observe, batch, order), the ItemLayer contract (items.ts),
// selecting and dragging items with any pointer, focus and labels for keyboard and screen
// reader users, and editing an item's text (labels, frame titles).
//
// Vector items (strokes, rectangles, ellipses, arrows) are SVG content (a `<g>` in board
// coordinates), not an <svg> each: the items of a layer that are next to each other in the
// board-wide stacking order (stacking.ts) share one <svg>, a "run", stacked as one. Each <svg>
// root costs the browser paint properties and chunks that it walks again at every frame of a
// pan or zoom: 500 strokes drawn one <svg> each held a 2,000-note board at ~25 fps
// (docs/benchmarks.md, "Web UI").

import * as Y from 'yjs'
import { h, svg } from '../dom'
import { t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import { rectContains, rectsIntersect, unionRects } from './geometry'
import type { ClipItem, ItemLayer } from './items'
import { boardTopZ, refuse, startDrag } from './operations'
import { zBetween, zCompare, type ItemMap } from './schema'
import { LOCAL } from './sync'
import { bindTextarea } from './textbinding'

const DOUBLE_TAP_MS = 400

export interface DrawnView<D> {
  /** HTML, or SVG content drawn in its run's shared <svg> (see the top of this file). */
  el: HTMLElement | SVGGElement
  data: D | null
}

/**
 * Margin of a run's <svg> around its items' boxes, board units: their grips (an invisible line
 * 24 screen pixels wide, 240 units at the smallest zoom) reach beyond their boxes. Content
 * outside an <svg>'s box is still drawn, but costly: runs of 1×1 <svg>s showing their overflow
 * panned the benchmark's board at 1–2 fps, runs sized to their content at full speed.
 */
const RUN_MARGIN = 160

/** A shared <svg> holding a run of vector items: it only gives them a place in the stacking
 * order, over their bounds (its own box catches no pointer: styles.css). */
function runHost (): SVGSVGElement {
  return svg('svg', { class: 'vector-run' })
}

/** Where each run's <svg> is (board units). */
const runBoxes = new WeakMap<SVGSVGElement, Rect>()

/**
 * Places a run's <svg> over `r` (board units) and its margin, showing the same coordinates. It
 * grows with room to spare and shrinks only to less than half, so that a stroke being drawn or
 * an item being dragged rarely resizes it (a resize repaints the whole run).
 */
function placeRun (host: SVGSVGElement, r: Rect): void {
  if (![r.x, r.y, r.w, r.h].every(Number.isFinite)) return
  const need = { x: r.x - RUN_MARGIN, y: r.y - RUN_MARGIN, w: r.w + RUN_MARGIN * 2, h: r.h + RUN_MARGIN * 2 }
  const box = runBoxes.get(host)
  if (box && rectContains(box, need) && box.w * box.h <= need.w * need.h * 4) return
  const x = Math.floor(need.x - need.w / 4)
  const y = Math.floor(need.y - need.h / 4)
  const w = Math.max(1, Math.ceil(need.w * 1.5))
  const hgt = Math.max(1, Math.ceil(need.h * 1.5))
  runBoxes.set(host, { x, y, w, h: hgt })
  host.setAttribute('viewBox', `${x} ${y} ${w} ${hgt}`)
  host.setAttribute('width', String(w))
  host.setAttribute('height', String(hgt))
  host.style.left = `${x}px`
  host.style.top = `${y}px`
}

function setZIndex (el: HTMLElement | SVGElement, rank: number | undefined): void {
  if (rank === undefined) return
  const value = String(rank)
  if (el.style.zIndex !== value) el.style.zIndex = value
}

/** A z key above everything on the board: new items go on top. */
export function zOnTop (ctx: BoardContext): string {
  return zBetween(boardTopZ(ctx), null)
}

const undoDepth = new WeakMap<Y.UndoManager, { depth: number, timeout: number }>()

/**
 * Makes everything this participant changes until `done()` one undo step (a long stroke or
 * drag may pause longer than the undo manager's capture timeout). Nested calls are fine.
 */
export function oneUndoStep (ctx: BoardContext): () => void {
  const undo = ctx.undo
  const state = undoDepth.get(undo) ?? { depth: 0, timeout: undo.captureTimeout }
  if (state.depth === 0) {
    state.timeout = undo.captureTimeout
    undo.stopCapturing()
    undo.captureTimeout = Number.POSITIVE_INFINITY
  }
  state.depth++
  undoDepth.set(undo, state)
  let finished = false
  return () => {
    if (finished) return
    finished = true
    state.depth--
    if (state.depth === 0) {
      undo.captureTimeout = state.timeout
      undo.stopCapturing()
    }
  }
}

/** Whether a change may be made now; says why not to screen readers otherwise. */
export function mayEdit (ctx: BoardContext): boolean {
  return !refuse(ctx)
}

/**
 * Edits a Y.Text in a <textarea> placed in `host` (a label's box, a frame's title): shared
 * typing, the board's undo, Escape (or Enter when `singleLine`) or leaving the field ends.
 */
export function editText (ctx: BoardContext, host: HTMLElement, text: Y.Text, opts: { label: string, className: string, singleLine?: boolean, selectAll?: boolean, onEnd: (refocus: boolean) => void }): () => void {
  const textarea = h('textarea', { class: opts.className, 'aria-label': opts.label, spellcheck: 'true', rows: opts.singleLine ? 1 : null })
  host.append(textarea)
  ctx.undo.stopCapturing()
  const unbind = bindTextarea(ctx.doc, text, textarea)
  let ended = false
  const end = (refocus: boolean): void => {
    if (ended) return
    ended = true
    unbind()
    ctx.undo.stopCapturing()
    textarea.remove()
    opts.onEnd(refocus)
  }
  textarea.addEventListener('keydown', (e) => {
    const mod = e.ctrlKey || e.metaKey
    if (e.key === 'Escape' || (opts.singleLine && e.key === 'Enter')) {
      e.preventDefault()
      end(true)
    } else if (mod && e.key.toLowerCase() === 'z') {
      e.preventDefault()
      if (e.shiftKey) ctx.undo.redo()
      else ctx.undo.undo()
    } else if (mod && e.key.toLowerCase() === 'y') {
      e.preventDefault()
      ctx.undo.redo()
    }
    e.stopPropagation()
  })
  textarea.addEventListener('blur', () => end(false))
  textarea.addEventListener('pointerdown', (e) => e.stopPropagation())
  textarea.focus({ preventScroll: true })
  textarea.setSelectionRange(opts.selectAll ? 0 : textarea.value.length, textarea.value.length)
  return () => end(false)
}

/**
 * One top-level map of items rendered as elements of the canvas world, with the ItemLayer
 * contract. Subclasses read, create and render their items; this class keeps them in step with
 * the document (own changes at once, others' once per frame), in stacking order.
 */
export abstract class DrawnLayer<D extends { id: string, z: string }> implements ItemLayer {
  abstract readonly name: string
  readonly container: HTMLElement
  protected readonly views = new Map<string, DrawnView<D>>()
  protected order: string[] = []
  /** Each item's rank in the board-wide stacking order, from the last pass of stacking.ts (empty
   * for layers that take no part: frames). */
  private ranks: ReadonlyMap<string, number> = new Map()
  private readonly dirty = new Set<string>()
  private frame = 0
  private readonly listeners = new Set<() => void>()
  private unobserve: () => void = () => {}
  /** Set while a pointer focuses an item (it already chose the selection). */
  private grabbing = false
  private lastTap: { id: string, t: number } | null = null

  constructor (protected readonly ctx: BoardContext, protected readonly map: Y.Map<ItemMap>, className: string, protected readonly hintId: string) {
    this.container = h('div', { class: `items-layer ${className}` })
  }

  /** Call at the end of the subclass' constructor: renders what is there and starts observing. */
  protected start (): void {
    const observer = (events: Array<Y.YEvent<any>>, tr: Y.Transaction): void => {
      for (const event of events) {
        if (event.target === this.map) {
          for (const key of (event as Y.YMapEvent<ItemMap>).keysChanged) this.dirty.add(key)
        } else if (event.path.length > 0) {
          this.dirty.add(String(event.path[0]))
        }
      }
      if (tr.local) this.flush()
      else this.schedule()
    }
    this.map.observeDeep(observer)
    this.unobserve = () => this.map.unobserveDeep(observer)
    for (const id of this.map.keys()) this.dirty.add(id)
    this.flush()
    this.ctx.selection.onChange(() => this.renderSelection())
    this.ctx.layers.push(this)
  }

  destroy (): void {
    this.unobserve()
    cancelAnimationFrame(this.frame)
    this.listeners.clear()
  }

  // ---- what subclasses provide -------------------------------------------------------------

  /** Reads an item; null when it is not one of this layer's (unknown type). */
  protected abstract read (id: string, m: ItemMap): D | null
  /** Creates the element of a new item (listeners are added here): HTML, or a `<g>` whose
   * content is in board coordinates (no transform of its own). */
  protected abstract create (id: string, d: D): HTMLElement | SVGGElement
  /** Updates the element from the item's data (`prev`: what it showed). */
  protected abstract render (view: DrawnView<D>, d: D, prev: D | null): void
  /** The item's bounding box. */
  abstract box (d: D): Rect
  /** Its role for screen readers ("rectangle"). */
  protected abstract roleName (d: D): string
  /** Its description for screen readers ("bleu, rempli"). */
  protected abstract describe (d: D): string
  /** Writes the move of one item (in the caller's transaction). */
  protected abstract moveItem (m: ItemMap, d: D, dx: number, dy: number): void
  /** A plain JSON copy of one item. */
  protected abstract toJSON (m: ItemMap, d: D): Record<string, unknown>
  /** A new item from a copy, offset; null when the copy is unusable. */
  protected abstract fromJSON (data: Record<string, unknown>, dx: number, dy: number, z: string, ids?: Map<string, string>): ItemMap | null
  /** Called when the item is activated (double click or tap, Enter): edit its text, say. */
  activate (_id: string): void {}

  // ---- reading -----------------------------------------------------------------------------

  get (id: string): D | null { return this.views.get(id)?.data ?? null }
  all (): D[] { return this.order.map((id) => this.views.get(id)?.data).filter((d): d is D => !!d) }
  element (id: string): HTMLElement | SVGGElement | null { return this.views.get(id)?.el ?? null }

  // ---- ItemLayer ---------------------------------------------------------------------------

  has (id: string): boolean { return this.views.has(id) }
  ids (): string[] { return [...this.order] }

  inRect (r: Rect, contained = false): string[] {
    return this.all().filter((d) => contained ? rectContains(r, this.box(d)) : this.touches(d, r)).map((d) => d.id)
  }

  /** Whether the item meets the rectangle (box selection); subclasses refine. */
  protected touches (d: D, r: Rect): boolean { return rectsIntersect(this.box(d), r) }

  bounds (ids: string[]): Rect | null {
    return unionRects(ids.map((id) => { const d = this.get(id); return d ? this.box(d) : null }))
  }

  moveBy (ids: string[], dx: number, dy: number): void {
    for (const id of ids) {
      const m = this.map.get(id)
      const d = this.get(id)
      if (m && d) this.moveItem(m, d, dx, dy)
    }
  }

  remove (ids: string[]): void {
    for (const id of ids) if (this.map.has(id)) this.map.delete(id)
  }

  copy (ids: string[]): ClipItem[] {
    const out: ClipItem[] = []
    for (const id of ids) {
      const m = this.map.get(id)
      const d = this.get(id)
      if (m && d) out.push({ layer: this.name, id, data: { ...this.toJSON(m, d), z: d.z }, text: this.clipText(d) })
    }
    return out
  }

  /** The item's text for the clipboard's plain-text fallback. */
  protected clipText (_d: D): string | undefined { return undefined }

  paste (items: ClipItem[], dx: number, dy: number, ids?: Map<string, string>): string[] {
    const mine = items
      .filter((c) => c.layer === this.name && c.data && typeof c.data === 'object')
      .map((c) => ({ c, z: String((c.data as { z?: unknown }).z ?? '') }))
      .sort((a, b) => (a.z < b.z ? -1 : a.z > b.z ? 1 : 0))
    const created: string[] = []
    let z = boardTopZ(this.ctx)
    for (const { c } of mine) {
      z = zBetween(z, null)
      const m = this.fromJSON(c.data as Record<string, unknown>, dx, dy, z, ids)
      if (!m) continue
      const id = (c.id && ids?.get(c.id)) || crypto.randomUUID()
      this.map.set(id, m)
      created.push(id)
    }
    return created
  }

  zOf (id: string): string | null { return this.get(id)?.z ?? null }
  setZ (id: string, z: string): void { this.map.get(id)?.set('z', z) }

  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  // ---- rendering ---------------------------------------------------------------------------

  protected transact (fn: () => void): void { this.ctx.doc.transact(fn, LOCAL) }

  /** Marks an item for re-rendering (something it is drawn from changed). */
  protected invalidate (id: string): void {
    this.dirty.add(id)
    this.schedule()
  }

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush() })
  }

  protected flush (): void {
    cancelAnimationFrame(this.frame)
    this.frame = 0
    if (this.dirty.size === 0) return
    let reorder = false
    for (const id of this.dirty) {
      const m = this.map.get(id)
      const view = this.views.get(id)
      const d = m instanceof Y.Map ? this.read(id, m) : null
      if (!d) {
        if (view) {
          this.removed(id, view)
          view.el.remove()
          this.views.delete(id)
          reorder = true
        }
        continue
      }
      let v = view
      if (!v) {
        const el = this.create(id, d)
        this.wire(el, id)
        v = { el, data: null }
        this.views.set(id, v)
        reorder = true
      }
      if (v.data?.z !== d.z) reorder = true
      const prev = v.data
      v.data = d
      this.render(v, d, prev)
      this.label(v)
    }
    this.dirty.clear()
    if (reorder) this.reorder()
    this.ctx.selection.retain((id) => this.ctx.layers.some((l) => l.has(id)))
    this.changed()
  }

  /** Tells the listeners (onChange) that what the layer shows changed. */
  protected changed (): void {
    for (const fn of this.listeners) fn()
  }

  /** Called before a removed item's element goes. */
  protected removed (_id: string, _view: DrawnView<D>): void {}

  private wire (el: HTMLElement | SVGGElement, id: string): void {
    el.classList.add('item')
    el.setAttribute('tabindex', '0')
    el.setAttribute('role', 'group')
    el.setAttribute('data-item-id', id)
    el.setAttribute('aria-describedby', this.hintId)
    el.addEventListener('focus', () => {
      if (!this.grabbing && !this.ctx.selection.has(id)) this.ctx.selection.set([id])
    })
  }

  private reorder (): void {
    const items = [...this.views.values()].map((v) => v.data).filter((d): d is D => !!d).sort(zCompare)
    this.order = items.map((d) => d.id)
    this.arrange()
  }

  /** Board-wide stacking (stacking.ts): every item's rank, bottom first, from 1. */
  restack (ranks: ReadonlyMap<string, number>): void {
    this.ranks = ranks
    this.arrange()
  }

  /**
   * Puts the elements in the container in this layer's stacking order (their order among equal
   * z-indexes, and the Tab order), vector items in runs: consecutive ones whose ranks follow
   * each other share an <svg>. HTML elements and runs get the z-index of their (first) rank.
   * Moves only what is out of place; keeps the focus where it was.
   */
  private arrange (): void {
    const focused = document.activeElement
    type Run = { members: SVGGElement[], rank: number | undefined, host: SVGSVGElement | null, bounds: Rect | null }
    const slots: Array<HTMLElement | Run> = []
    const runs: Run[] = []
    let run: Run | null = null
    let previous: number | undefined
    for (const id of this.order) {
      const v = this.views.get(id)
      if (!v?.data) continue
      const el = v.el
      const rank = this.ranks.get(id)
      if (el instanceof SVGGElement) {
        // Not ranked yet (new since the last pass): it joins the run below it until then.
        const adjacent = run !== null && (rank === undefined || previous === undefined || rank === previous + 1)
        if (!run || !adjacent) {
          run = { members: [], rank, host: null, bounds: null }
          runs.push(run)
          slots.push(run)
        }
        run.members.push(el)
        run.bounds = unionRects([run.bounds, this.box(v.data)])
      } else {
        run = null
        slots.push(el)
        setZIndex(el, rank)
      }
      previous = rank
    }
    // Each run keeps the <svg> that holds its first item already there, if no run before took it.
    const taken = new Set<SVGSVGElement>()
    for (const r of runs) {
      for (const el of r.members) {
        const parent = el.parentNode
        if (parent instanceof SVGSVGElement && parent.parentNode === this.container && !taken.has(parent)) {
          r.host = parent
          break
        }
      }
      r.host ??= runHost()
      taken.add(r.host)
      setZIndex(r.host, r.rank)
      placeRun(r.host, r.bounds ?? { x: 0, y: 0, w: 0, h: 0 })
      // What stays after the last member belongs to a later run, which takes it below.
      let cursor = r.host.firstChild
      for (const el of r.members) {
        if (el === cursor) cursor = cursor.nextSibling
        else r.host.insertBefore(el, cursor)
      }
    }
    let cursor = this.container.firstChild
    for (const slot of slots) {
      const node = slot instanceof Element ? slot : slot.host as SVGSVGElement
      if (node === cursor) cursor = cursor.nextSibling
      else this.container.insertBefore(node, cursor)
    }
    // Runs that went (merged into others, or their items gone).
    while (cursor) {
      const next = cursor.nextSibling
      if (cursor instanceof SVGSVGElement) cursor.remove()
      cursor = next
    }
    // (Moving an element blurs it; putting the focus back changes no selection.)
    if ((focused instanceof HTMLElement || focused instanceof SVGElement) && focused !== document.activeElement &&
      focused.isConnected && this.container.contains(focused)) {
      this.grabbing = true
      focused.focus({ preventScroll: true })
      this.grabbing = false
    }
  }

  protected label (v: DrawnView<D>): void {
    const d = v.data
    if (!d) return
    v.el.setAttribute('aria-roledescription', this.roleName(d))
    const parts = [this.describe(d)]
    if (this.ctx.selection.has(d.id)) parts.push(t('item.selected'))
    v.el.setAttribute('aria-label', parts.filter(Boolean).join(', '))
  }

  /** Re-labels every item (language change). */
  relabel (): void {
    for (const v of this.views.values()) this.label(v)
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

  /** Pointer down on an item's grab area: select, drag (operations.ts), activate on double tap. */
  protected grab (id: string, e: PointerEvent): void {
    const el = this.views.get(id)?.el
    const claimed = startDrag(this.ctx, id, e, {
      element: el instanceof HTMLElement ? el : null,
      onTap: () => {
        const now = performance.now()
        if (this.lastTap?.id === id && now - this.lastTap.t < DOUBLE_TAP_MS) {
          this.lastTap = null
          if (this.ctx.canEdit()) this.activate(id)
        } else {
          this.lastTap = { id, t: now }
        }
      }
    })
    if (claimed && el && document.activeElement !== el) {
      this.grabbing = true
      el.focus({ preventScroll: true, focusVisible: false } as FocusOptions)
      this.grabbing = false
    }
  }
}
