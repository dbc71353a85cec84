// Shapes (doc.getMap('shapes')): rectangles and ellipses (outline colour, optional fill), text
// labels (a shared Y.Text fitted to their box, edited like notes), arrows whose ends attach to
// items (notes, clusters, shapes, frames: drawn from the target's current bounds, looked up
// through ctx.layers, so they follow it) or stay free, and images (bytes on the server, see
// images.ts). Each shape is one element of the canvas world, stacked by z with everything else:
// labels and images HTML, rectangles, ellipses and arrows SVG content in board coordinates,
// sharing an <svg> with the vector items next to them in the stacking order (drawn.ts).

import * as Y from 'yjs'
import { h, svg } from '../dom'
import { inkLabel, t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import { DrawnLayer, editText, mayEdit, zOnTop, type DrawnView } from './drawn'
import {
  center, ellipsePoints, exitPoint, pointInEllipse, pointInRect, polylineDistance, rectContains,
  segmentDistance, segmentToRect, type Point
} from './geometry'
import type { ImageStore } from './images'
import type { ItemLayer } from './items'
import {
  clamp, isShape, makeShape, MAX_SHAPE_SIZE, MIN_SHAPE_SIZE, readArrowEnd, readShape, round, roundEnd, SHAPE, shapesOf,
  shapeText, type ArrowData, type ArrowEnd, type InkColor, type ItemMap, type NewShape, type ShapeData
} from './schema'
import { widthLabel } from './strokes'
import { LOCAL } from './sync'

const HINT_ID = 'drawn-keyboard-hint'
/** Gap between an attached arrow's end and the outline of its target. */
const ARROW_GAP = 6

type Resolved = { a: Point, b: Point }

export type ResizeMode = 'free' | 'ratio'

export class ShapesLayer extends DrawnLayer<ShapeData> {
  readonly name = 'shapes'
  /** Geometry each arrow was last drawn with (kept when a target goes away). */
  private readonly arrowGeometry = new Map<string, Resolved>()
  private readonly watched = new Set<ItemLayer>()
  private readonly offs: Array<() => void> = []
  private editing: { id: string, stop: () => void } | null = null

  constructor (ctx: BoardContext, private readonly images: ImageStore) {
    super(ctx, shapesOf(ctx.doc), 'shapes-layer', HINT_ID)
    ctx.canvas.world.append(this.container)
    this.start()
    this.onChange(() => this.refreshArrows())
    ctx.doc.on('afterTransaction', this.detachArrows)
  }

  override destroy (): void {
    this.editing?.stop()
    for (const off of this.offs) off()
    this.ctx.doc.off('afterTransaction', this.detachArrows)
    super.destroy()
  }

  /**
   * After this participant deleted items, the arrows attached to them keep a free end where they
   * were drawn (same undo step: undoing the deletion re-attaches them). Others' deletions are
   * theirs to handle; until then such an end is drawn where it was last seen.
   */
  private readonly detachArrows = (tr: Y.Transaction): void => {
    if (tr.origin !== LOCAL || !tr.local) return
    const gone = new Set<string>()
    for (const [type, keys] of tr.changed) {
      if (!(type instanceof Y.Map) || type._item !== null) continue
      for (const key of keys) if (key !== null && !type.has(key)) gone.add(key)
    }
    if (gone.size === 0) return
    const writes: Array<[string, 'from' | 'to', ArrowEnd]> = []
    for (const d of this.all()) {
      if (d.type !== 'arrow' || gone.has(d.id) || !this.map.has(d.id)) continue
      const g = this.arrowGeometry.get(d.id)
      if (!g) continue
      if ('id' in d.from && gone.has(d.from.id)) writes.push([d.id, 'from', { xy: g.a }])
      if ('id' in d.to && gone.has(d.to.id)) writes.push([d.id, 'to', { xy: g.b }])
    }
    if (writes.length) this.transact(() => { for (const [id, which, end] of writes) this.setArrowEnd(id, which, end) })
  }

  protected read (id: string, m: ItemMap): ShapeData | null {
    return isShape(m) ? readShape(id, m) : null
  }

  // ---- geometry ----------------------------------------------------------------------------

  box (d: ShapeData): Rect {
    if (d.type !== 'arrow') return { x: d.x, y: d.y, w: d.w, h: d.h }
    const g = this.resolve(d)
    if (!g) return { x: 0, y: 0, w: 0, h: 0 }
    const m = d.width * 2
    return { x: Math.min(g.a[0], g.b[0]) - m, y: Math.min(g.a[1], g.b[1]) - m, w: Math.abs(g.b[0] - g.a[0]) + m * 2, h: Math.abs(g.b[1] - g.a[1]) + m * 2 }
  }

  /** The bounds of any item of the board (through ctx.layers), and whether it is round. */
  private targetBounds (id: string): { r: Rect, round: boolean } | null {
    const own = this.get(id)
    if (own) return own.type === 'arrow' ? null : { r: this.box(own), round: own.type === 'ellipse' }
    for (const layer of this.ctx.layers) {
      if (layer === this || !layer.has(id)) continue
      const r = layer.bounds([id])
      return r ? { r, round: false } : null
    }
    return null
  }

  /** Where an arrow's ends are now: attached ends on their target's outline. */
  resolve (d: ArrowData): Resolved | null {
    const ta = 'id' in d.from ? this.targetBounds(d.from.id) : null
    const tb = 'id' in d.to ? this.targetBounds(d.to.id) : null
    const cached = this.arrowGeometry.get(d.id)
    const ca: Point | null = 'xy' in d.from ? d.from.xy : ta ? center(ta.r) : cached?.a ?? null
    const cb: Point | null = 'xy' in d.to ? d.to.xy : tb ? center(tb.r) : cached?.b ?? null
    if (!ca || !cb) return null
    const a = ta ? exitPoint(ta.r, cb, ta.round, ARROW_GAP) : ca
    const b = tb ? exitPoint(tb.r, ca, tb.round, ARROW_GAP) : cb
    return { a, b }
  }

  /** Subscribes to every layer's changes (arrows follow their targets). Call after adding layers. */
  watchLayers (): void {
    for (const layer of this.ctx.layers) {
      if (layer === this || this.watched.has(layer) || !layer.onChange) continue
      this.watched.add(layer)
      this.offs.push(layer.onChange(() => this.refreshArrows()))
    }
  }

  /** Redraws the arrows whose ends moved (a target moved, resized or went away). */
  private refreshArrows (): void {
    this.watchLayers()
    let changed = false
    for (const d of this.all()) {
      if (d.type !== 'arrow' || !('id' in d.from || 'id' in d.to)) continue
      const before = this.arrowGeometry.get(d.id)
      const now = this.resolve(d)
      if (!now || (before && samePoint(before.a, now.a) && samePoint(before.b, now.b))) continue
      const v = this.views.get(d.id)
      if (v) this.render(v, d, d)
      changed = true
    }
    // Whoever draws from the arrows (handles, minimap) hears of it; this runs again and stops.
    if (changed) this.changed()
  }

  /** The item under a point that an arrow end would attach to: the topmost item, else the
   * smallest area (frame, cluster) around it. Strokes and arrows are never targets. */
  targetAt (p: Point, exclude: string | null = null): string | null {
    const r = { x: p[0], y: p[1], w: 0, h: 0 }
    let best: { id: string, z: string } | null = null
    let area: { id: string, size: number } | null = null
    for (const layer of this.ctx.layers) {
      if (layer.name === 'strokes') continue
      for (const id of layer.inRect(r)) {
        if (id === exclude) continue
        const own = this.get(id)
        if (own && (own.type === 'arrow' || !pointInRect(p, this.box(own)))) continue
        if (layer.areas) {
          const b = layer.bounds([id])
          const size = b ? b.w * b.h : Number.POSITIVE_INFINITY
          if (!area || size < area.size) area = { id, size }
        } else {
          const z = layer.zOf(id) ?? ''
          if (!best || z > best.z || (z === best.z && id > best.id)) best = { id, z }
        }
      }
    }
    return best?.id ?? area?.id ?? null
  }

  protected override touches (d: ShapeData, r: Rect): boolean {
    if (d.type === 'arrow') {
      const g = this.resolve(d)
      return g ? segmentToRect(g.a, g.b, r, true) === 0 : false
    }
    if (d.type === 'ellipse') {
      const box = this.box(d)
      if (pointInEllipse([r.x + r.w / 2, r.y + r.h / 2], box) || rectContains(r, box)) return true
      const pts = ellipsePoints(box)
      for (let i = 1; i < pts.length; i++) if (segmentToRect(pts[i - 1], pts[i], r, true) === 0) return true
      return false
    }
    return super.touches(d, r)
  }

  /** Shapes within `radius` of the segment a–b (the eraser's path). Images are left alone. */
  hit (a: Point, b: Point, radius: number): string[] {
    const out: string[] = []
    for (const d of this.all()) {
      if (d.type === 'image') continue
      let dist: number
      if (d.type === 'arrow') {
        const g = this.resolve(d)
        if (!g) continue
        dist = segmentDistance(a, b, g.a, g.b) - d.width / 2
      } else if (d.type === 'ellipse') {
        const box = this.box(d)
        dist = d.fill && (pointInEllipse(a, box) || pointInEllipse(b, box)) ? 0 : polylineDistance(a, b, ellipsePoints(box)) - d.width / 2
      } else if (d.type === 'rect') {
        dist = segmentToRect(a, b, this.box(d), d.fill !== null) - d.width / 2
      } else {
        dist = segmentToRect(a, b, this.box(d), true)
      }
      if (dist <= radius) out.push(d.id)
    }
    return out
  }

  // ---- rendering ---------------------------------------------------------------------------

  protected create (id: string, d: ShapeData): HTMLElement | SVGGElement {
    let el: HTMLElement | SVGGElement
    if (d.type === 'rect' || d.type === 'ellipse') {
      const tag = d.type === 'rect' ? 'rect' : 'ellipse'
      el = svg('g', { class: `shape shape-${d.type}` }, svg(tag, { class: 'shape-hit' }), svg(tag, { class: 'shape-body' }))
    } else if (d.type === 'arrow') {
      el = svg('g', { class: 'shape shape-arrow' },
        svg('path', { class: 'arrow-hit' }), svg('path', { class: 'arrow-line' }), svg('path', { class: 'arrow-head' }))
    } else if (d.type === 'label') {
      el = h('div', { class: 'shape shape-label' }, h('div', { class: 'label-text' }))
      el.addEventListener('dblclick', (e) => { e.stopPropagation(); if (this.ctx.canEdit()) this.activate(id) })
    } else {
      el = h('div', { class: 'shape shape-image' }, h('div', { class: 'image-status' }))
    }
    el.addEventListener('pointerdown', (e) => this.grab(id, e as PointerEvent))
    return el
  }

  protected render (v: DrawnView<ShapeData>, d: ShapeData, prev: ShapeData | null): void {
    switch (d.type) {
      case 'rect':
      case 'ellipse': this.renderBox(v.el as SVGGElement, d); break
      case 'arrow': this.renderArrow(v.el as SVGGElement, d); break
      case 'label': this.renderLabel(v.el as HTMLElement, d, prev?.type === 'label' ? prev : null); break
      case 'image': this.renderImage(v.el as HTMLElement, d, prev?.type === 'image' ? prev : null); break
    }
  }

  private renderBox (el: SVGGElement, d: Extract<ShapeData, { type: 'rect' | 'ellipse' }>): void {
    el.dataset.ink = d.color
    if (d.fill) el.dataset.fill = d.fill
    else delete el.dataset.fill
    el.style.setProperty('--stroke-width', `${d.width}px`)
    for (const shape of Array.from(el.children)) {
      if (d.type === 'rect') {
        shape.setAttribute('x', String(d.x))
        shape.setAttribute('y', String(d.y))
        shape.setAttribute('width', String(d.w))
        shape.setAttribute('height', String(d.h))
        shape.setAttribute('rx', String(Math.min(8, d.w / 4, d.h / 4)))
      } else {
        shape.setAttribute('cx', String(d.x + d.w / 2))
        shape.setAttribute('cy', String(d.y + d.h / 2))
        shape.setAttribute('rx', String(d.w / 2))
        shape.setAttribute('ry', String(d.h / 2))
      }
    }
  }

  private renderArrow (el: SVGGElement, d: ArrowData): void {
    const g = this.resolve(d)
    el.classList.toggle('unresolved', !g)
    if (!g) return
    this.arrowGeometry.set(d.id, g)
    el.dataset.ink = d.color
    el.style.setProperty('--stroke-width', `${d.width}px`)
    const [a, b] = [g.a, g.b]
    const len = Math.hypot(b[0] - a[0], b[1] - a[1])
    const head = Math.min(len * 0.5, Math.max(12, d.width * 4))
    const ux = len ? (b[0] - a[0]) / len : 1
    const uy = len ? (b[1] - a[1]) / len : 0
    const base: Point = [b[0] - ux * head, b[1] - uy * head]
    const half = head * 0.5
    const f = (p: Point): string => `${p[0].toFixed(1)} ${p[1].toFixed(1)}`
    const line = `M${f(a)}L${f([b[0] - ux * head * 0.6, b[1] - uy * head * 0.6])}`
    const [hit, body, tip] = Array.from(el.children)
    hit.setAttribute('d', `M${f(a)}L${f(b)}`)
    body.setAttribute('d', line)
    tip.setAttribute('d', `M${f(b)}L${f([base[0] - uy * half, base[1] + ux * half])}L${f([base[0] + uy * half, base[1] - ux * half])}Z`)
  }

  private renderLabel (el: HTMLElement, d: Extract<ShapeData, { type: 'label' }>, prev: Extract<ShapeData, { type: 'label' }> | null): void {
    el.dataset.ink = d.color
    el.style.transform = `translate(${d.x}px, ${d.y}px)`
    el.style.width = `${d.w}px`
    el.style.height = `${d.h}px`
    if (!prev || prev.text !== d.text || prev.w !== d.w || prev.h !== d.h) {
      const text = el.querySelector('.label-text') as HTMLElement
      if (this.editing?.id !== d.id) text.textContent = d.text
      el.style.setProperty('--label-font', `${fitLabelFont(d.text, d.w, d.h)}px`)
    }
    el.classList.toggle('empty', d.text.trim() === '')
  }

  private renderImage (el: HTMLElement, d: Extract<ShapeData, { type: 'image' }>, prev: Extract<ShapeData, { type: 'image' }> | null): void {
    el.style.transform = `translate(${d.x}px, ${d.y}px)`
    el.style.width = `${d.w}px`
    el.style.height = `${d.h}px`
    if (prev && prev.asset === d.asset && el.dataset.state !== 'error') return
    const status = el.querySelector('.image-status') as HTMLElement
    el.querySelector('img')?.remove()
    el.dataset.state = 'loading'
    status.textContent = t('image.loading')
    if (!d.asset) {
      el.dataset.state = 'error'
      status.textContent = t('image.unavailable')
      return
    }
    const asset = d.asset
    this.images.url(asset).then((url) => {
      if (this.get(d.id)?.type !== 'image' || (this.get(d.id) as { asset: string }).asset !== asset) return
      const img = h('img', { alt: '', draggable: 'false', src: url })
      img.addEventListener('load', () => { el.dataset.state = 'ready'; status.textContent = '' }, { once: true })
      img.addEventListener('error', () => { img.remove(); el.dataset.state = 'error'; status.textContent = t('image.unavailable') }, { once: true })
      el.prepend(img)
    }).catch(() => {
      if ((this.get(d.id) as { asset?: string } | null)?.asset !== asset) return
      el.dataset.state = 'error'
      status.textContent = t('image.unavailable')
    })
  }

  protected override removed (id: string): void {
    if (this.editing?.id === id) this.editing.stop()
    this.arrowGeometry.delete(id)
  }

  protected roleName (d: ShapeData): string { return t(`shape.${d.type}`) }

  protected describe (d: ShapeData): string {
    if (d.type === 'label') return d.text.trim() === '' ? t('label.empty') : excerpt(d.text, 140)
    if (d.type === 'image') return d.name ? d.name : t('image.noName')
    if (d.type === 'arrow') {
      const end = (e: ArrowEnd): string => ('id' in e ? this.nameOf(e.id) : t('arrow.free'))
      return t('arrow.describe', { color: inkLabel(d.color), from: end(d.from), to: end(d.to) })
    }
    const parts = [inkLabel(d.color), widthLabel(d.width)]
    if (d.fill) parts.push(t('shape.filled'))
    return parts.join(', ')
  }

  /** How an arrow's end names its target for screen readers: its label or its kind. */
  private nameOf (id: string): string {
    const el = this.ctx.canvas.world.querySelector(`[data-note-id="${CSS.escape(id)}"], [data-item-id="${CSS.escape(id)}"]`)
    const label = el?.getAttribute('aria-label')
    return label ? excerpt(label, 60) : t('arrow.item')
  }

  protected override clipText (d: ShapeData): string | undefined {
    return d.type === 'label' ? d.text : undefined
  }

  // ---- changes -----------------------------------------------------------------------------

  /** Adds a shape on top of everything; returns its id. */
  add (init: NewShape): string | null {
    if (!mayEdit(this.ctx)) return null
    const id = crypto.randomUUID()
    this.ctx.undo.stopCapturing()
    this.transact(() => this.map.set(id, makeShape({ ...init, z: zOnTop(this.ctx), createdBy: this.ctx.participantId })))
    this.ctx.undo.stopCapturing()
    return id
  }

  protected moveItem (m: ItemMap, d: ShapeData, dx: number, dy: number): void {
    if (d.type === 'arrow') {
      // Attached ends follow their targets; free ends move.
      if ('xy' in d.from) m.set(SHAPE.from, { xy: [round(d.from.xy[0] + dx), round(d.from.xy[1] + dy)] })
      if ('xy' in d.to) m.set(SHAPE.to, { xy: [round(d.to.xy[0] + dx), round(d.to.xy[1] + dy)] })
      return
    }
    m.set(SHAPE.xy, [round(d.x + dx), round(d.y + dy)])
  }

  /** How an item may be resized with handles, or null. */
  resizeMode (id: string): ResizeMode | null {
    const d = this.get(id)
    if (!d || d.type === 'arrow') return null
    return d.type === 'image' ? 'ratio' : 'free'
  }

  /** Sets a shape's box (in the caller's transaction). */
  resize (id: string, r: Rect): void {
    const m = this.map.get(id)
    if (!m || !this.get(id) || this.get(id)?.type === 'arrow') return
    m.set(SHAPE.xy, [round(r.x), round(r.y)])
    m.set(SHAPE.wh, [round(clamp(r.w, MIN_SHAPE_SIZE, MAX_SHAPE_SIZE)), round(clamp(r.h, MIN_SHAPE_SIZE, MAX_SHAPE_SIZE))])
  }

  /** Changes the look of shapes (in the caller's transaction): ink colour of outlines, arrows
   * and labels; outline width of rectangles, ellipses and arrows; fill of rectangles and
   * ellipses (`null`: none). Images keep theirs. */
  restyle (ids: string[], style: { color?: InkColor, width?: number, fill?: InkColor | null }): void {
    for (const id of ids) {
      const m = this.map.get(id)
      const d = this.get(id)
      if (!m || !d || d.type === 'image') continue
      if (style.color) m.set(SHAPE.color, style.color)
      if (style.width && d.type !== 'label') m.set(SHAPE.width, style.width)
      if (style.fill !== undefined && (d.type === 'rect' || d.type === 'ellipse')) m.set(SHAPE.fill, style.fill)
    }
  }

  /** Re-attaches or frees one end of an arrow (in the caller's transaction). */
  setArrowEnd (id: string, which: 'from' | 'to', end: ArrowEnd): void {
    const m = this.map.get(id)
    if (m && this.get(id)?.type === 'arrow') m.set(which === 'from' ? SHAPE.from : SHAPE.to, roundEnd(end))
  }

  override activate (id: string): void {
    const d = this.get(id)
    const el = this.element(id)
    const m = this.map.get(id)
    const text = m ? shapeText(m) : null
    if (d?.type !== 'label' || !(el instanceof HTMLElement) || !text || !mayEdit(this.ctx)) return
    if (this.editing?.id === id) return
    this.editing?.stop()
    const shown = el.querySelector('.label-text') as HTMLElement
    shown.hidden = true
    el.classList.add('editing')
    this.ctx.selection.set([id])
    const stop = editText(this.ctx, el, text, {
      label: t('label.editLabel'),
      className: 'label-editor',
      onEnd: (refocus) => {
        if (this.editing?.id === id) this.editing = null
        el.classList.remove('editing')
        shown.hidden = false
        shown.textContent = this.get(id)?.type === 'label' ? (this.get(id) as { text: string }).text : ''
        if (refocus) el.focus({ preventScroll: true })
      }
    })
    this.editing = { id, stop }
  }

  isEditing (): boolean { return this.editing !== null }
  stopEditing (): void { this.editing?.stop() }

  protected toJSON (m: ItemMap, d: ShapeData): Record<string, unknown> {
    const base = { type: d.type, color: m.get(SHAPE.color) ?? d.color }
    if (d.type === 'arrow') {
      // Where the ends are drawn now: a pasted arrow whose target is gone keeps its place.
      const g = this.resolve(d)
      return { ...base, from: d.from, to: d.to, width: d.width, ends: g ? [g.a, g.b] : null }
    }
    const box = { xy: [d.x, d.y], wh: [d.w, d.h] }
    if (d.type === 'label') return { ...base, ...box, text: d.text }
    if (d.type === 'image') return { type: d.type, ...box, asset: d.asset, name: d.name }
    return { ...base, ...box, fill: d.fill, width: d.width }
  }

  protected fromJSON (data: Record<string, unknown>, dx: number, dy: number, z: string, ids?: Map<string, string>): ItemMap | null {
    // Read the copy through the same defensive reader as the document.
    const probe = new Y.Map<unknown>()
    const doc = new Y.Doc()
    doc.getMap('probe').set('item', probe)
    for (const [k, v] of Object.entries(data)) if (k !== 'text' && k !== 'z') probe.set(k, v)
    const d = readShape('', probe)
    if (!d) return null
    const ends = Array.isArray(data.ends) ? data.ends : []
    const shift = (e: ArrowEnd, i: number): ArrowEnd => {
      if ('id' in e) {
        const mapped = ids?.get(e.id)
        if (mapped) return { id: mapped }
        if (this.ctx.layers.some((l) => l.has(e.id))) return e
        const at = readArrowEnd({ xy: ends[i] })
        return 'xy' in at ? { xy: [at.xy[0] + dx, at.xy[1] + dy] } : at
      }
      return { xy: [e.xy[0] + dx, e.xy[1] + dy] }
    }
    const common = { z, createdBy: this.ctx.participantId }
    if (d.type === 'arrow') {
      const rawFrom = readArrowEnd(data.from)
      const rawTo = readArrowEnd(data.to)
      return makeShape({ type: 'arrow', from: shift(rawFrom, 0), to: shift(rawTo, 1), color: d.color, width: d.width, ...common })
    }
    const x = d.x + dx
    const y = d.y + dy
    if (d.type === 'label') return makeShape({ type: 'label', x, y, w: d.w, h: d.h, color: d.color, text: typeof data.text === 'string' ? data.text.slice(0, 10000) : '', ...common })
    if (d.type === 'image') return d.asset ? makeShape({ type: 'image', x, y, w: d.w, h: d.h, asset: d.asset, name: d.name, ...common }) : null
    return makeShape({ type: d.type, x, y, w: d.w, h: d.h, color: d.color, fill: d.fill, width: d.width, ...common })
  }
}

function samePoint (a: Point, b: Point): boolean {
  return Math.abs(a[0] - b[0]) < 0.01 && Math.abs(a[1] - b[1]) < 0.01
}

function excerpt (text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** A font size (board units) that fills a label's box with its text. */
export function fitLabelFont (text: string, w: number, h: number): number {
  const width = Math.max(1, w - 8)
  const height = Math.max(1, h - 8)
  const lines = Math.max(1, text.split('\n').length)
  const chars = Math.max(4, text.length + lines * 4)
  const em = Math.sqrt((width * height) / (chars * 0.55 * 1.25))
  const longest = Math.max(1, ...text.split(/\s+/).map((word) => word.length))
  return Math.round(clamp(Math.min(em, height / (lines * 1.25), width / (longest * 0.6)), 8, 400))
}
