// Freehand strokes (doc.getMap('strokes')): rendered with perfect-freehand as SVG content in
// board coordinates, strokes next to each other in the stacking order sharing one <svg>
// (drawn.ts), so that they interleave with notes and shapes by z; drawn live point by point
// (others see the stroke grow), selected and moved like any item, erased whole.

import { getStroke } from 'perfect-freehand'
import { svg } from '../dom'
import { inkLabel, t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import { DrawnLayer, oneUndoStep, zOnTop, type DrawnView } from './drawn'
import { polylineDistance, segmentToRect, type Point } from './geometry'
import {
  ink, isStroke, makeStroke, packPoint, readStroke, round, STROKE, strokesOf, strokeWidth, type InkColor, type ItemMap,
  type StrokeData
} from './schema'
import { LOCAL } from './sync'
import * as Y from 'yjs'

/** A stroke longer than this (points) continues as a new stroke: items stay small. */
export const MAX_STROKE_POINTS = 3000

interface StrokeItem extends StrokeData {
  /** Bounding box of the points (outline included), relative to the origin. */
  local: Rect
  /** Changes when the points change (not when the stroke moves). */
  shape: string
}

const HINT_ID = 'drawn-keyboard-hint'

/** perfect-freehand's options for a stroke of nominal width `width`. */
function strokeOptions (width: number): Parameters<typeof getStroke>[1] {
  return {
    size: width,
    thinning: 0.5,
    smoothing: 0.5,
    streamline: 0.35,
    simulatePressure: false,
    last: true,
    start: { cap: true },
    end: { cap: true }
  }
}

/** An outline polygon as a smooth closed SVG path (perfect-freehand's recipe), moved by
 * (dx, dy). */
export function pathFromOutline (points: number[][], dx = 0, dy = 0): string {
  const n = points.length
  if (n < 4) return ''
  const x = (v: number): string => (v + dx).toFixed(2)
  const y = (v: number): string => (v + dy).toFixed(2)
  const avg = (a: number, b: number): number => (a + b) / 2
  let a = points[0]
  let b = points[1]
  const c = points[2]
  let out = `M${x(a[0])},${y(a[1])} Q${x(b[0])},${y(b[1])} ${x(avg(b[0], c[0]))},${y(avg(b[1], c[1]))} T`
  for (let i = 2; i < n - 1; i++) {
    a = points[i]
    b = points[i + 1]
    out += `${x(avg(a[0], b[0]))},${y(avg(a[1], b[1]))} `
  }
  return `${out}Z`
}

/** The centre line through the points, moved by (dx, dy): the stroke's wide, invisible grip. */
function centreLine (points: number[][], dx: number, dy: number): string {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${(x + dx).toFixed(1)} ${(y + dy).toFixed(1)}`).join('')
}

export class StrokesLayer extends DrawnLayer<StrokeItem> {
  readonly name = 'strokes'
  /** Each stroke's outline relative to its origin (perfect-freehand's polygon), computed when
   * its points change: a move only rewrites the paths. */
  private readonly outlines = new Map<string, number[][]>()

  constructor (ctx: BoardContext) {
    super(ctx, strokesOf(ctx.doc), 'strokes-layer', HINT_ID)
    ctx.canvas.world.append(this.container)
    this.start()
  }

  protected read (id: string, m: ItemMap): StrokeItem | null {
    if (!isStroke(m)) return null
    const d = readStroke(id, m)
    let x0 = 0
    let y0 = 0
    let x1 = 0
    let y1 = 0
    d.points.forEach(([px, py], i) => {
      if (i === 0 || px < x0) x0 = px
      if (i === 0 || py < y0) y0 = py
      if (i === 0 || px > x1) x1 = px
      if (i === 0 || py > y1) y1 = py
    })
    const margin = d.width
    const last = d.points.at(-1)
    return {
      ...d,
      local: { x: x0 - margin, y: y0 - margin, w: x1 - x0 + margin * 2, h: y1 - y0 + margin * 2 },
      shape: `${d.points.length}:${last?.join(',') ?? ''}:${d.points[0]?.join(',') ?? ''}:${d.width}`
    }
  }

  box (d: StrokeItem): Rect {
    return { x: d.x + d.local.x, y: d.y + d.local.y, w: d.local.w, h: d.local.h }
  }

  protected create (id: string): SVGGElement {
    const el = svg('g', { class: 'stroke' },
      svg('path', { class: 'stroke-hit' }),
      svg('path', { class: 'stroke-ink' }))
    el.addEventListener('pointerdown', (e) => this.grab(id, e))
    return el
  }

  protected render (v: DrawnView<StrokeItem>, d: StrokeItem, prev: StrokeItem | null): void {
    const el = v.el as SVGGElement
    if (!prev || prev.color !== d.color) el.dataset.ink = d.color
    if (!prev || prev.width !== d.width) el.style.setProperty('--stroke-width', `${d.width}px`)
    let outline = this.outlines.get(d.id)
    if (!outline || !prev || prev.shape !== d.shape) {
      outline = getStroke(d.points, strokeOptions(d.width))
      this.outlines.set(d.id, outline)
    } else if (prev.x === d.x && prev.y === d.y) {
      return
    }
    // No transform: the paths are in board coordinates (drawn.ts says why).
    const [hit, ink] = [el.children[0], el.children[1]]
    ink.setAttribute('d', pathFromOutline(outline, d.x, d.y))
    hit.setAttribute('d', centreLine(d.points, d.x, d.y))
  }

  protected override removed (id: string): void {
    this.outlines.delete(id)
  }

  protected roleName (): string { return t('stroke.role') }

  protected describe (d: StrokeItem): string {
    return t('stroke.describe', { color: inkLabel(d.color), width: widthLabel(d.width) })
  }

  protected override touches (d: StrokeItem, r: Rect): boolean {
    const pts = this.absolute(d)
    if (pts.length === 1) return segmentToRect(pts[0], pts[0], r, true) === 0
    for (let i = 1; i < pts.length; i++) if (segmentToRect(pts[i - 1], pts[i], r, true) === 0) return true
    return false
  }

  private absolute (d: StrokeItem): Point[] {
    return d.points.map(([px, py]) => [d.x + px, d.y + py])
  }

  /** Strokes within `radius` of the segment a–b (the eraser's path). */
  hit (a: Point, b: Point, radius: number): string[] {
    const out: string[] = []
    const x0 = Math.min(a[0], b[0]) - radius
    const y0 = Math.min(a[1], b[1]) - radius
    const x1 = Math.max(a[0], b[0]) + radius
    const y1 = Math.max(a[1], b[1]) + radius
    for (const d of this.all()) {
      const box = this.box(d)
      if (box.x > x1 || box.y > y1 || box.x + box.w < x0 || box.y + box.h < y0) continue
      if (polylineDistance(a, b, this.absolute(d)) <= radius + d.width / 2) out.push(d.id)
    }
    return out
  }

  protected moveItem (m: ItemMap, d: StrokeItem, dx: number, dy: number): void {
    m.set(STROKE.xy, [round(d.x + dx), round(d.y + dy)])
  }

  protected toJSON (m: ItemMap, d: StrokeItem): Record<string, unknown> {
    const points = m.get(STROKE.points)
    return { points: points instanceof Y.Array ? points.toArray() : [], xy: [d.x, d.y], color: d.color, width: d.width, pressure: d.pressure }
  }

  protected fromJSON (data: Record<string, unknown>, dx: number, dy: number, z: string): ItemMap | null {
    const points = Array.isArray(data.points) ? data.points.slice(0, MAX_STROKE_POINTS * 3) : []
    if (points.length < 3 || !points.every((v) => typeof v === 'number' && Number.isFinite(v))) return null
    const xy = Array.isArray(data.xy) ? data.xy : [0, 0]
    const x = Number(xy[0])
    const y = Number(xy[1])
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null
    return makeStroke({
      origin: [x + dx, y + dy],
      points: points.slice(0, points.length - points.length % 3).map((v) => Math.round(v as number)),
      color: ink(data.color),
      width: strokeWidth(data.width),
      pressure: data.pressure === true,
      z,
      createdBy: this.ctx.participantId
    })
  }

  /** Changes the colour or width of strokes (in the caller's transaction). */
  restyle (ids: string[], style: { color?: InkColor, width?: number }): void {
    for (const id of ids) {
      const m = this.map.get(id)
      if (!m || !this.has(id)) continue
      if (style.color) m.set(STROKE.color, style.color)
      if (style.width) m.set(STROKE.width, style.width)
    }
  }

  /** Starts a stroke at (x, y): it is in the document (and on everyone's screen) at once. */
  begin (x: number, y: number, pressure: number, style: { color: InkColor, width: number, pen: boolean }): StrokeBuilder {
    return new StrokeBuilder(this.ctx, strokesOf(this.ctx.doc), [x, y, pressure], style)
  }
}

/** Describes a width in words (fine, medium, thick, very thick). */
export function widthLabel (width: number): string {
  return t(width <= 2 ? 'width.fine' : width <= 4 ? 'width.medium' : width <= 8 ? 'width.thick' : 'width.marker')
}

/**
 * A stroke being drawn: points come in as the pointer moves and are thinned (a point is kept
 * when it is at least `minDist` from the last one kept and leaves the straight line from it),
 * then appended to the stroke's Y.Array once per frame, so that others see it grow.
 */
export class StrokeBuilder {
  readonly id = crypto.randomUUID()
  private readonly origin: [number, number]
  private readonly points: Y.Array<number>
  private pending: number[] = []
  private last: [number, number, number]
  private candidate: [number, number, number] | null = null
  private count = 1
  private frame = 0
  private readonly done: () => void

  constructor (private readonly ctx: BoardContext, private readonly map: Y.Map<ItemMap>, first: [number, number, number], style: { color: InkColor, width: number, pen: boolean }) {
    this.origin = [round(first[0]), round(first[1])]
    this.last = first
    this.done = oneUndoStep(ctx)
    const item = makeStroke({
      origin: this.origin,
      points: packPoint(this.origin, ...first),
      color: style.color,
      width: style.width,
      pressure: style.pen,
      z: zOnTop(ctx),
      createdBy: ctx.participantId
    })
    ctx.doc.transact(() => map.set(this.id, item), LOCAL)
    this.points = item.get(STROKE.points) as Y.Array<number>
  }

  /** Whether the stroke holds as many points as a stroke may (continue with a new one). */
  get full (): boolean { return this.count >= MAX_STROKE_POINTS }

  /** The last point kept (or about to be). */
  get end (): [number, number, number] { return this.candidate ?? this.last }

  /** A new point (world units, pressure 0–1); `minDist`: thinning distance in world units. */
  add (x: number, y: number, pressure: number, minDist: number): void {
    const p: [number, number, number] = [x, y, pressure]
    const c = this.candidate
    const ref = c ?? this.last
    // Too close to the latest point: only its pressure may change.
    if (Math.hypot(x - ref[0], y - ref[1]) < minDist) {
      if (c) c[2] = Math.max(c[2], pressure)
      return
    }
    if (c) {
      const onLine = distToLine(c, this.last, p) < minDist * 0.25 && Math.abs(c[2] - (this.last[2] + p[2]) / 2) < 0.08
      if (!onLine) this.keep(c)
    }
    this.candidate = p
    this.schedule()
  }

  private keep (p: [number, number, number]): void {
    this.pending.push(...packPoint(this.origin, p[0], p[1], p[2]))
    this.last = p
    this.count++
  }

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush() })
  }

  /** Appends the points kept so far (one transaction). */
  flush (): void {
    cancelAnimationFrame(this.frame)
    this.frame = 0
    if (!this.pending.length || !this.map.has(this.id)) return
    const batch = this.pending
    this.pending = []
    this.ctx.doc.transact(() => this.points.push(batch), LOCAL)
  }

  /** The stroke is finished: keeps the last point, appends everything. */
  finish (): void {
    if (this.candidate) this.keep(this.candidate)
    this.candidate = null
    this.flush()
    this.done()
  }

  /** The gesture was taken back (a second finger: a pinch): the stroke goes. */
  cancel (): void {
    cancelAnimationFrame(this.frame)
    this.pending = []
    if (this.map.has(this.id)) this.ctx.doc.transact(() => this.map.delete(this.id), LOCAL)
    this.done()
  }
}

function distToLine (p: [number, number, number], a: [number, number, number], b: [number, number, number]): number {
  const dx = b[0] - a[0]
  const dy = b[1] - a[1]
  const len = Math.hypot(dx, dy)
  if (len === 0) return Math.hypot(p[0] - a[0], p[1] - a[1])
  return Math.abs((p[0] - a[0]) * dy - (p[1] - a[1]) * dx) / len
}
