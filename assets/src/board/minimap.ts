// The minimap, in a corner of the canvas: the boxes of every item of every layer (`ctx.layers`)
// and the part of the board in view; a tap or a drag on it moves the view there. Drawn into a
// <canvas> (cheap whatever the number of items): the items are redrawn into an offscreen copy
// only when the document changed (at most every 200 ms) or the map's mapping changed once the
// view rests (while it moves, a zoom or a pan past the items changes the mapping at every frame:
// the copy is drawn scaled meanwhile); otherwise only that copy and the view rectangle are drawn.
// Hidden from screen readers (the outline serves them); its collapse button is a normal,
// labelled button.

import { h } from '../dom'
import { t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import { icon } from './icons'
import { itemBoxes, union, type BoundedLayer } from './layers'

const ITEMS_INTERVAL_MS = 200
/** The view rectangle is redrawn at most this often (20 Hz) while the view moves: the map costs
 * ~2 ms a frame on a 2,000-note board, more than it is worth at 60 Hz (docs/benchmarks.md). */
const DRAW_INTERVAL_MS = 50
/** The view rests this long after its last move before the items are redrawn crisp. */
const VIEW_REST_MS = 250
const STORAGE_KEY = 'atelier.minimap'
/** Fill or outline per layer (by its name); anything else gets the default. */
const LAYER_STYLE: Record<string, { fill?: string, stroke?: string }> = {
  notes: { fill: '#d4a106' },
  clusters: { stroke: '#4b5563' },
  frames: { stroke: '#1d4ed8' },
  strokes: { fill: '#374151' },
  shapes: { fill: '#6b7280' }
}
const DEFAULT_STYLE = { fill: '#6b7280' }

interface Mapping { world: Rect, scale: number, ox: number, oy: number, w: number, h: number }

export class Minimap {
  readonly el: HTMLElement
  private readonly toggle: HTMLButtonElement
  private readonly map: HTMLCanvasElement
  private readonly cache = document.createElement('canvas')
  private boxes: Array<{ layer: string, boxes: Rect[] }> = []
  private content: Rect | null = null
  private cacheKey = ''
  /** The mapping the offscreen copy of the items was drawn with. */
  private cacheMapping: Mapping | null = null
  /** When the view last moved, and the timer that redraws the items once it rests. */
  private viewMoved = Number.NEGATIVE_INFINITY
  private restTimer = 0
  private itemsDirty = true
  private itemsTimer = 0
  private frame = 0
  private drawTimer = 0
  private lastDraw = -Infinity
  private open: boolean
  /** The mapping used while a finger or the mouse is down on the map (kept still meanwhile). */
  private dragMapping: Mapping | null = null
  private mapping: Mapping | null = null
  private size = { w: 0, h: 0 }
  /** The board's viewport size (CSS pixels), kept by a ResizeObserver: no layout reads per frame. */
  private viewSize = { w: 0, h: 0 }
  private readonly cleanups: Array<() => void> = []
  /** Layers whose `onChange` we listen to (they may register after the minimap is built). */
  private readonly watched = new WeakSet<object>()

  /** `layers`: every layer of items (normally `ctx.layers`). */
  constructor (private readonly ctx: BoardContext, private readonly layers: () => readonly BoundedLayer[] = () => ctx.layers) {
    this.map = h('canvas', { class: 'minimap-map', id: 'minimap-map', 'aria-hidden': 'true' })
    this.toggle = h('button', { type: 'button', class: 'tool minimap-toggle', 'aria-controls': 'minimap-map' })
    this.el = h('div', { class: 'minimap canvas-control' }, this.map, this.toggle)
    let saved: string | null = null
    try { saved = localStorage.getItem(STORAGE_KEY) } catch { /* not kept */ }
    this.open = saved === null ? !window.matchMedia('(max-width: 600px)').matches : saved === 'open'
    this.toggle.addEventListener('click', () => this.setOpen(!this.open))

    this.map.addEventListener('pointerdown', (e) => this.onPointerDown(e))
    this.map.addEventListener('pointermove', (e) => { if (this.dragMapping) this.navigate(e) })
    const end = (): void => { this.dragMapping = null; this.schedule() }
    this.map.addEventListener('pointerup', end)
    this.map.addEventListener('pointercancel', end)

    const resize = new ResizeObserver(() => {
      this.size = { w: this.map.clientWidth, h: this.map.clientHeight }
      this.cacheKey = ''
      this.schedule()
    })
    resize.observe(this.map)
    const viewResize = new ResizeObserver(() => {
      this.viewSize = { w: ctx.canvas.el.clientWidth, h: ctx.canvas.el.clientHeight }
      this.schedule()
    })
    viewResize.observe(ctx.canvas.el)
    this.cleanups.push(() => viewResize.disconnect())
    this.cleanups.push(() => resize.disconnect())
    this.cleanups.push(ctx.canvas.onChange(() => {
      this.viewMoved = performance.now()
      this.schedule()
    }))
    // Layers say when they rendered a change; the document's updates cover any that does not.
    const onUpdate = (): void => this.itemsChanged()
    ctx.doc.on('update', onUpdate)
    this.cleanups.push(() => ctx.doc.off('update', onUpdate))
    this.watchLayers()
    this.render()
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    clearTimeout(this.itemsTimer)
    clearTimeout(this.drawTimer)
    clearTimeout(this.restTimer)
    cancelAnimationFrame(this.frame)
  }

  /** Relabels the toggle (language change). */
  render (): void {
    const label = t(this.open ? 'minimap.hide' : 'minimap.show')
    this.toggle.replaceChildren(icon('minimap'), h('span', { class: 'visually-hidden' }, label))
    this.toggle.title = label
    this.toggle.setAttribute('aria-expanded', String(this.open))
    this.el.classList.toggle('collapsed', !this.open)
    this.map.hidden = !this.open
    if (this.open) this.schedule()
  }

  private setOpen (open: boolean): void {
    this.open = open
    try { localStorage.setItem(STORAGE_KEY, open ? 'open' : 'closed') } catch { /* not kept */ }
    this.render()
  }

  private watchLayers (): void {
    for (const layer of this.layers()) {
      if (this.watched.has(layer) || !layer.onChange) continue
      this.watched.add(layer)
      this.cleanups.push(layer.onChange(() => this.itemsChanged()))
    }
  }

  /** Items changed: recompute their boxes soon (at most every ITEMS_INTERVAL_MS). */
  private itemsChanged (): void {
    if (this.itemsTimer) return
    this.itemsTimer = window.setTimeout(() => {
      this.itemsTimer = 0
      this.itemsDirty = true
      this.schedule()
    }, ITEMS_INTERVAL_MS)
  }

  private schedule (): void {
    if (this.frame || this.drawTimer || !this.open) return
    const frame = (): void => { this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw() }) }
    const wait = DRAW_INTERVAL_MS - (performance.now() - this.lastDraw)
    if (wait <= 0) frame()
    else this.drawTimer = window.setTimeout(() => { this.drawTimer = 0; frame() }, wait)
  }

  /** The visible part of the board, in world units. */
  private viewport (): Rect {
    const v = this.ctx.canvas.view
    return { x: -v.x / v.scale, y: -v.y / v.scale, w: this.viewSize.w / v.scale, h: this.viewSize.h / v.scale }
  }

  private computeMapping (): Mapping | null {
    const { w, h: height } = this.size
    if (w === 0 || height === 0) return null
    const r = union(this.content, this.viewport()) as Rect
    const pad = Math.max(r.w, r.h) * 0.04
    const world = { x: r.x - pad, y: r.y - pad, w: r.w + pad * 2, h: r.h + pad * 2 }
    const scale = Math.min(w / world.w, height / world.h)
    return { world, scale, ox: (w - world.w * scale) / 2, oy: (height - world.h * scale) / 2, w, h: height }
  }

  private draw (): void {
    if (!this.open) return
    this.lastDraw = performance.now()
    if (this.itemsDirty) {
      this.itemsDirty = false
      this.watchLayers()
      this.boxes = itemBoxes(this.layers())
      let content: Rect | null = null
      for (const l of this.boxes) for (const b of l.boxes) content = union(content, b)
      this.content = content
      this.cacheKey = ''
    }
    const m = this.dragMapping ?? this.computeMapping()
    if (!m) return
    this.mapping = m
    const dpr = window.devicePixelRatio || 1
    const pw = Math.round(m.w * dpr)
    const ph = Math.round(m.h * dpr)
    if (this.map.width !== pw || this.map.height !== ph) {
      this.map.width = pw
      this.map.height = ph
    }
    const key = [m.world.x, m.world.y, m.world.w, m.world.h, pw, ph].map((n) => n.toFixed(2)).join()
    const cached = this.cacheMapping
    // The items unchanged but the mapping changed while the view moves: their copy, scaled.
    const scaled = key !== this.cacheKey && this.cacheKey !== '' && cached !== null &&
      cached.w === m.w && cached.h === m.h && performance.now() - this.viewMoved < VIEW_REST_MS
    if (scaled) {
      clearTimeout(this.restTimer)
      this.restTimer = window.setTimeout(() => { this.restTimer = 0; this.schedule() }, VIEW_REST_MS)
    } else if (key !== this.cacheKey) {
      this.cacheKey = key
      this.cacheMapping = m
      this.drawItems(m, dpr, pw, ph)
    }
    const g = this.map.getContext('2d')
    if (!g) return
    g.setTransform(1, 0, 0, 1, 0, 0)
    g.clearRect(0, 0, pw, ph)
    if (scaled && cached) {
      // The copy covers the world rectangle its whole map showed; put it where that is now.
      g.setTransform(dpr, 0, 0, dpr, 0, 0)
      const wx = cached.world.x - cached.ox / cached.scale
      const wy = cached.world.y - cached.oy / cached.scale
      const k = m.scale / cached.scale
      g.drawImage(this.cache, m.ox + (wx - m.world.x) * m.scale, m.oy + (wy - m.world.y) * m.scale, cached.w * k, cached.h * k)
    } else {
      g.drawImage(this.cache, 0, 0)
    }
    // The view.
    const v = this.viewport()
    g.setTransform(dpr, 0, 0, dpr, 0, 0)
    const x = m.ox + (v.x - m.world.x) * m.scale
    const y = m.oy + (v.y - m.world.y) * m.scale
    g.fillStyle = 'rgba(29, 78, 216, 0.12)'
    g.fillRect(x, y, v.w * m.scale, v.h * m.scale)
    g.strokeStyle = '#1d4ed8'
    g.lineWidth = 2
    g.strokeRect(x, y, v.w * m.scale, v.h * m.scale)
    // What the map shows (tests and tools read it): world rectangle and scale.
    this.map.dataset.world = [m.world.x, m.world.y, m.world.w, m.world.h].map((n) => n.toFixed(1)).join(' ')
  }

  private drawItems (m: Mapping, dpr: number, pw: number, ph: number): void {
    if (this.cache.width !== pw || this.cache.height !== ph) {
      this.cache.width = pw
      this.cache.height = ph
    }
    const g = this.cache.getContext('2d')
    if (!g) return
    g.setTransform(1, 0, 0, 1, 0, 0)
    g.clearRect(0, 0, pw, ph)
    g.setTransform(dpr, 0, 0, dpr, 0, 0)
    for (const { layer, boxes } of this.boxes) {
      const style = LAYER_STYLE[layer] ?? DEFAULT_STYLE
      g.fillStyle = style.fill ?? 'transparent'
      g.strokeStyle = style.stroke ?? 'transparent'
      g.lineWidth = 1
      for (const b of boxes) {
        const x = m.ox + (b.x - m.world.x) * m.scale
        const y = m.oy + (b.y - m.world.y) * m.scale
        const w = Math.max(1.5, b.w * m.scale)
        const hh = Math.max(1.5, b.h * m.scale)
        if (style.fill) g.fillRect(x, y, w, hh)
        if (style.stroke) g.strokeRect(x + 0.5, y + 0.5, w - 1, hh - 1)
      }
    }
  }

  private onPointerDown (e: PointerEvent): void {
    if (e.button !== 0 || !this.mapping) return
    e.preventDefault()
    e.stopPropagation()
    try { this.map.setPointerCapture(e.pointerId) } catch { /* pointer already gone */ }
    this.dragMapping = this.mapping
    this.navigate(e)
  }

  /** Centres the view on the world point under the pointer. */
  private navigate (e: PointerEvent): void {
    const m = this.dragMapping
    if (!m) return
    const r = this.map.getBoundingClientRect()
    const wx = m.world.x + (e.clientX - r.left - m.ox) / m.scale
    const wy = m.world.y + (e.clientY - r.top - m.oy) / m.scale
    const canvas = this.ctx.canvas
    const { scale } = canvas.view
    canvas.setView({ scale, x: this.viewSize.w / 2 - wx * scale, y: this.viewSize.h / 2 - wy * scale })
  }
}
