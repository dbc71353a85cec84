// The infinite canvas: the view (pan and zoom), the gestures on it, coordinate conversion.
//
//   screen = world × scale + (x, y)   (screen: pixels from the viewport's top-left corner)
//
// Gestures, for mouse, pen and touch alike (pointer events): a pointer held on the background
// pans (space held, middle button, one finger) or draws a selection box (mouse or pen left
// button, or one finger in box mode); two fingers pan and pinch-zoom; ctrl/⌘ + wheel (and
// trackpad pinch) zooms at the pointer, the wheel pans. Pointers that start on an item are
// handed to whoever claims them (notes: drag and resize). While a pen is in use, touches are
// ignored (palm rejection).

export interface View { x: number, y: number, scale: number }
export interface Rect { x: number, y: number, w: number, h: number }

export const MIN_SCALE = 0.1

/** `a` modulo `n`, in [0, n). */
function mod (a: number, n: number): number {
  return ((a % n) + n) % n
}
export const MAX_SCALE = 4
/** The dotted background's cell at 100 %, board units, and how far it reaches past the view. */
const GRID_CELL = 32
const GRID_MARGIN = GRID_CELL * MAX_SCALE
/** Zoom labels follow a moving view at most this often (Canvas.onChangeEvery). */
export const ZOOM_LABEL_MS = 100

/** What a claimed pointer does as it moves. */
export interface Gesture {
  move: (e: PointerEvent) => void
  end: (e: PointerEvent) => void
  cancel: () => void
}

export interface CanvasHooks {
  /** A tap, double tap or double click on the background, in world coordinates. */
  doubleTap: (x: number, y: number) => void
  /** A single tap or click on the background. */
  tap: (e: PointerEvent) => void
  /** A selection box (world coordinates) as it is drawn; `done` on release. */
  box: (rect: Rect, additive: boolean, done: boolean) => void
  /** Whether one-finger drags on the background draw a box instead of panning. */
  boxMode: () => boolean
  /** The pointer moved over the board (world coordinates), or left it (null). */
  hover: (point: [number, number] | null) => void
  /** A lasso (a closed polygon, world coordinates) as it is drawn; `done` on release. */
  lasso?: (points: Array<[number, number]>, additive: boolean, done: boolean) => void
  /** Whether drags on the background draw a lasso (any pointer); Alt held does too. */
  lassoMode?: () => boolean
}

const TAP_SLOP = 8
const DOUBLE_TAP_MS = 400
const DOUBLE_TAP_SLOP = 30
const PEN_GRACE_MS = 600

export class Canvas {
  view: View = { x: 0, y: 0, scale: 1 }
  readonly world: HTMLElement
  readonly overlay: HTMLElement
  /** The dotted background: its own layer, moved by a transform (a pan repaints nothing). */
  private readonly grid: HTMLElement
  private gridScale = 0
  private readonly boxEl: HTMLElement
  private lassoEl: SVGSVGElement | null = null
  private readonly listeners = new Set<() => void>()
  private readonly gestures = new Map<number, Gesture>()
  private readonly touches = new Map<number, { x: number, y: number }>()
  private pinch: { d0: number, cx: number, cy: number, v0: View } | null = null
  private spaceHeld = false
  private lastPen = Number.NEGATIVE_INFINITY
  private lastTap: { t: number, x: number, y: number } | null = null
  private hooks: CanvasHooks | null = null
  private frame = 0
  private movingTimer = 0
  private readonly cleanups: Array<() => void> = []

  constructor (readonly el: HTMLElement) {
    this.world = document.createElement('div')
    this.world.className = 'world'
    this.overlay = document.createElement('div')
    this.overlay.className = 'overlay'
    this.boxEl = document.createElement('div')
    this.boxEl.className = 'selection-box'
    this.boxEl.hidden = true
    this.overlay.append(this.boxEl)
    this.grid = document.createElement('div')
    this.grid.className = 'grid'
    this.grid.setAttribute('aria-hidden', 'true')
    // Larger than the view by the largest cell on every side, whatever the zoom: a zoom changes
    // only its cell size (no layout at every frame).
    this.grid.style.inset = `${-GRID_MARGIN}px`
    el.append(this.grid, this.world, this.overlay)
    this.listen(el, 'pointerdown', (e) => this.onPointerDownCapture(e as PointerEvent), true)
    this.listen(el, 'pointerdown', (e) => this.onPointerDown(e as PointerEvent))
    this.listen(el, 'pointermove', (e) => this.onPointerMove(e as PointerEvent))
    this.listen(el, 'pointerup', (e) => this.onPointerUp(e as PointerEvent))
    this.listen(el, 'pointercancel', (e) => this.onPointerCancel(e as PointerEvent))
    this.listen(el, 'pointerleave', (e) => { if ((e as PointerEvent).pointerType === 'mouse') this.hooks?.hover(null) })
    this.listen(el, 'wheel', (e) => this.onWheel(e as WheelEvent), false, { passive: false })
    this.listen(el, 'contextmenu', (e) => { if ((e as PointerEvent).pointerType !== 'mouse') e.preventDefault() })
    this.listen(window, 'keydown', (e) => this.onKey(e as KeyboardEvent, true))
    this.listen(window, 'keyup', (e) => this.onKey(e as KeyboardEvent, false))
    this.listen(window, 'blur', () => this.setSpace(false))
    const resize = new ResizeObserver(() => this.emit())
    resize.observe(el)
    this.cleanups.push(() => resize.disconnect())
    this.apply()
  }

  setHooks (hooks: CanvasHooks): void { this.hooks = hooks }

  private listen (target: EventTarget, type: string, fn: (e: Event) => void, capture = false, extra: AddEventListenerOptions = {}): void {
    const options = { capture, ...extra }
    target.addEventListener(type, fn, options)
    this.cleanups.push(() => target.removeEventListener(type, fn, options))
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    cancelAnimationFrame(this.frame)
    clearTimeout(this.movingTimer)
    this.listeners.clear()
  }

  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /**
   * Like onChange, but at most every `ms` while the view keeps changing (and once after its last
   * change): for what follows the view without needing every frame. A zoom label's new text
   * costs a layout and a repaint of the page at every frame of a zoom.
   */
  onChangeEvery (ms: number, fn: () => void): () => void {
    let last = Number.NEGATIVE_INFINITY
    let timer = 0
    const call = (): void => {
      timer = 0
      last = performance.now()
      fn()
    }
    const off = this.onChange(() => {
      if (timer) return
      const wait = last + ms - performance.now()
      if (wait <= 0) call()
      else timer = window.setTimeout(call, wait)
    })
    return () => {
      off()
      clearTimeout(timer)
    }
  }

  private emit (): void {
    for (const fn of this.listeners) fn()
  }

  // ---- coordinates ---------------------------------------------------------------------

  /** World coordinates of a point given in client (page viewport) coordinates. */
  toWorld (clientX: number, clientY: number): [number, number] {
    const r = this.el.getBoundingClientRect()
    return [(clientX - r.left - this.view.x) / this.view.scale, (clientY - r.top - this.view.y) / this.view.scale]
  }

  /** The world rectangle currently visible. */
  visibleWorld (): Rect {
    const { width, height } = this.el.getBoundingClientRect()
    return { x: -this.view.x / this.view.scale, y: -this.view.y / this.view.scale, w: width / this.view.scale, h: height / this.view.scale }
  }

  /** The world point at the centre of the view. */
  center (): [number, number] {
    const v = this.visibleWorld()
    return [v.x + v.w / 2, v.y + v.h / 2]
  }

  // ---- view changes --------------------------------------------------------------------

  setView (view: View): void {
    this.view = { x: view.x, y: view.y, scale: Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.scale)) }
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0
        this.apply()
      })
    }
  }

  private apply (): void {
    // Flag the view as moving for a moment (see .canvas.moving in the stylesheet).
    this.el.classList.add('moving')
    clearTimeout(this.movingTimer)
    this.movingTimer = window.setTimeout(() => {
      this.el.classList.remove('moving')
      this.settleScale()
    }, 200)
    const { x, y, scale } = this.view
    this.world.style.transform = `translate(${x}px, ${y}px) scale(${scale})`
    // The dotted background moves with the board, so a pan is visible even on an empty area.
    // Moved by a transform (modulo one cell): a pan repaints nothing; a zoom repaints only the
    // grid's layer.
    const cell = GRID_CELL * scale
    if (cell !== this.gridScale) {
      this.gridScale = cell
      this.grid.style.backgroundSize = `${cell}px ${cell}px`
    }
    this.grid.style.transform = `translate(${mod(x + GRID_MARGIN, cell)}px, ${mod(y + GRID_MARGIN, cell)}px)`
    // --inv-scale (sizes that stay constant on screen) is inherited by every item: changing it
    // restyles the whole board, so it follows the zoom once the view stops moving.
    if (!this.el.style.getPropertyValue('--inv-scale')) this.settleScale()
    this.emit()
  }

  private settleScale (): void {
    const value = String(1 / this.view.scale)
    if (this.el.style.getPropertyValue('--inv-scale') !== value) this.el.style.setProperty('--inv-scale', value)
  }

  panBy (dx: number, dy: number): void {
    this.setView({ ...this.view, x: this.view.x + dx, y: this.view.y + dy })
  }

  /** Zooms by `factor`, keeping the point under (clientX, clientY) fixed (default: centre). */
  zoomBy (factor: number, clientX?: number, clientY?: number): void {
    const r = this.el.getBoundingClientRect()
    const sx = (clientX ?? r.left + r.width / 2) - r.left
    const sy = (clientY ?? r.top + r.height / 2) - r.top
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.view.scale * factor))
    const k = scale / this.view.scale
    this.setView({ scale, x: sx - (sx - this.view.x) * k, y: sy - (sy - this.view.y) * k })
  }

  /** Shows `rect` whole, centred, at most at 100 % (an empty board: the origin at 100 %). */
  fit (rect: Rect | null, margin = 48): void {
    const { width, height } = this.el.getBoundingClientRect()
    if (!rect || width === 0 || height === 0) {
      this.setView({ x: width / 2, y: height / 2, scale: 1 })
      return
    }
    const scale = Math.min(1, (width - margin * 2) / Math.max(rect.w, 1), (height - margin * 2) / Math.max(rect.h, 1))
    const s = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale))
    this.setView({ scale: s, x: width / 2 - (rect.x + rect.w / 2) * s, y: height / 2 - (rect.y + rect.h / 2) * s })
  }

  /** Pans (no zoom change) so that `rect` is visible, if it is not already. */
  reveal (rect: Rect, margin = 32): void {
    const v = this.visibleWorld()
    const m = margin / this.view.scale
    let dx = 0
    let dy = 0
    if (rect.x < v.x + m) dx = v.x + m - rect.x
    else if (rect.x + rect.w > v.x + v.w - m) dx = v.x + v.w - m - (rect.x + rect.w)
    if (rect.y < v.y + m) dy = v.y + m - rect.y
    else if (rect.y + rect.h > v.y + v.h - m) dy = v.y + v.h - m - (rect.y + rect.h)
    if (dx || dy) this.panBy(dx * this.view.scale, dy * this.view.scale)
  }

  // ---- gestures ------------------------------------------------------------------------

  /** Hands a pointer that went down on an item to `gesture` (notes call this). */
  claim (e: PointerEvent, gesture: Gesture): boolean {
    if (this.ignored(e) || this.pinch) return false
    this.gestures.get(e.pointerId)?.cancel()
    this.gestures.set(e.pointerId, gesture)
    this.capture(e)
    return true
  }

  get spacePanning (): boolean { return this.spaceHeld }

  private capture (e: PointerEvent): void {
    try { this.el.setPointerCapture(e.pointerId) } catch { /* pointer already gone */ }
  }

  /** Palm rejection: touches are ignored while a pen is in use. */
  private ignored (e: PointerEvent): boolean {
    return e.pointerType === 'touch' && performance.now() - this.lastPen < PEN_GRACE_MS
  }

  /** Controls placed over the canvas (zoom buttons, minimap, banners: `.canvas-control`) keep
   * their own pointer events. */
  private onControl (e: Event): boolean {
    return (e.target as Element | null)?.closest?.('button, a, input, select, textarea, .zoom-controls, .canvas-control') != null
  }

  private onPointerDownCapture (e: PointerEvent): void {
    if (e.pointerType === 'pen') {
      this.lastPen = performance.now()
      this.dropTouches()
    }
    if (e.pointerType !== 'touch' || this.ignored(e) || this.onControl(e)) return
    this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY })
    if (this.touches.size === 2) {
      // A second finger: whatever the first one was doing becomes a pinch.
      for (const [id, g] of this.gestures) {
        if (this.touches.has(id)) {
          g.cancel()
          this.gestures.delete(id)
        }
      }
      this.startPinch()
      this.capture(e)
      e.stopPropagation()
      e.preventDefault()
    }
  }

  /** A pen came down: a palm that landed just before it stops whatever it was doing (a pan). */
  private dropTouches (): void {
    for (const id of this.touches.keys()) {
      this.gestures.get(id)?.cancel()
      this.gestures.delete(id)
    }
    this.touches.clear()
    this.pinch = null
  }

  private onPointerDown (e: PointerEvent): void {
    if (this.ignored(e) || this.pinch || this.gestures.has(e.pointerId) || this.onControl(e)) return
    const panButton = e.button === 1 || (e.button === 0 && this.spaceHeld)
    if (e.button !== 0 && !panButton) return
    e.preventDefault()
    // Focus the board (not a note) so that keyboard shortcuts apply here.
    // (No focus ring for a pointer: focusVisible is honoured by current browsers.)
    if (document.activeElement !== this.el) this.el.focus({ preventScroll: true, focusVisible: false } as FocusOptions)
    this.capture(e)
    const start = { x: e.clientX, y: e.clientY, t: performance.now() }
    let moved = false
    const lassoing = !panButton && this.hooks?.lasso !== undefined && (e.altKey || this.hooks.lassoMode?.() === true)
    const boxing = !panButton && (lassoing || e.pointerType !== 'touch' || this.hooks?.boxMode() === true)
    const lasso: Array<[number, number]> = []
    let last = { x: e.clientX, y: e.clientY }
    if (!boxing) this.el.classList.add('panning')
    const boxRect = (ev: PointerEvent): Rect => {
      const [x0, y0] = this.toWorld(start.x, start.y)
      const [x1, y1] = this.toWorld(ev.clientX, ev.clientY)
      return { x: Math.min(x0, x1), y: Math.min(y0, y1), w: Math.abs(x1 - x0), h: Math.abs(y1 - y0) }
    }
    const showBox = (ev: PointerEvent | null): void => {
      if (!ev) { this.boxEl.hidden = true; return }
      const r = this.el.getBoundingClientRect()
      this.boxEl.hidden = false
      this.boxEl.style.left = `${Math.min(start.x, ev.clientX) - r.left}px`
      this.boxEl.style.top = `${Math.min(start.y, ev.clientY) - r.top}px`
      this.boxEl.style.width = `${Math.abs(ev.clientX - start.x)}px`
      this.boxEl.style.height = `${Math.abs(ev.clientY - start.y)}px`
    }
    this.gestures.set(e.pointerId, {
      move: (ev) => {
        if (!moved && Math.hypot(ev.clientX - start.x, ev.clientY - start.y) > TAP_SLOP) moved = true
        if (!moved) return
        if (lassoing) {
          if (lasso.length === 0 || Math.hypot(ev.clientX - last.x, ev.clientY - last.y) >= 4) {
            if (lasso.length === 0) lasso.push(this.toWorld(start.x, start.y))
            lasso.push(this.toWorld(ev.clientX, ev.clientY))
            this.showLasso(lasso)
            this.hooks?.lasso?.(lasso, ev.shiftKey, false)
            last = { x: ev.clientX, y: ev.clientY }
          }
          return
        }
        if (boxing) {
          showBox(ev)
          this.hooks?.box(boxRect(ev), ev.shiftKey, false)
        } else {
          this.panBy(ev.clientX - last.x, ev.clientY - last.y)
        }
        last = { x: ev.clientX, y: ev.clientY }
      },
      end: (ev) => {
        this.el.classList.remove('panning')
        if (lassoing && moved) {
          this.showLasso(null)
          this.hooks?.lasso?.(lasso, ev.shiftKey, true)
        } else if (boxing && moved) {
          showBox(null)
          this.hooks?.box(boxRect(ev), ev.shiftKey, true)
        }
        if (!moved && !panButton && performance.now() - start.t < 600) this.onTap(ev)
      },
      cancel: () => {
        this.el.classList.remove('panning')
        showBox(null)
        this.showLasso(null)
      }
    })
  }

  /** Draws the lasso being drawn (world points) over the board, or hides it (null). */
  private showLasso (points: Array<[number, number]> | null): void {
    if (!points) {
      if (this.lassoEl) this.lassoEl.style.display = 'none'
      return
    }
    if (!this.lassoEl) {
      const ns = 'http://www.w3.org/2000/svg'
      this.lassoEl = document.createElementNS(ns, 'svg')
      this.lassoEl.setAttribute('class', 'selection-lasso')
      this.lassoEl.setAttribute('aria-hidden', 'true')
      this.lassoEl.append(document.createElementNS(ns, 'polygon'))
      this.overlay.append(this.lassoEl)
    }
    const { x, y, scale } = this.view
    this.lassoEl.style.display = ''
    this.lassoEl.firstElementChild?.setAttribute('points', points.map(([px, py]) => `${px * scale + x},${py * scale + y}`).join(' '))
  }

  private onTap (e: PointerEvent): void {
    const now = performance.now()
    const prev = this.lastTap
    if (prev && now - prev.t < DOUBLE_TAP_MS && Math.hypot(e.clientX - prev.x, e.clientY - prev.y) < DOUBLE_TAP_SLOP) {
      this.lastTap = null
      const [x, y] = this.toWorld(e.clientX, e.clientY)
      this.hooks?.doubleTap(x, y)
    } else {
      this.lastTap = { t: now, x: e.clientX, y: e.clientY }
      this.hooks?.tap(e)
    }
  }

  private onPointerMove (e: PointerEvent): void {
    if (e.pointerType === 'pen') this.lastPen = performance.now()
    if (this.touches.has(e.pointerId)) this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY })
    if (this.pinch && this.touches.has(e.pointerId)) {
      this.movePinch()
      return
    }
    this.gestures.get(e.pointerId)?.move(e)
    if (e.pointerType !== 'touch') this.hooks?.hover(this.toWorld(e.clientX, e.clientY))
  }

  private onPointerUp (e: PointerEvent): void {
    this.touches.delete(e.pointerId)
    if (this.pinch) {
      if (this.touches.size < 2) this.pinch = null
      this.gestures.delete(e.pointerId)
      return
    }
    const g = this.gestures.get(e.pointerId)
    this.gestures.delete(e.pointerId)
    g?.end(e)
  }

  private onPointerCancel (e: PointerEvent): void {
    this.touches.delete(e.pointerId)
    if (this.touches.size < 2) this.pinch = null
    this.gestures.get(e.pointerId)?.cancel()
    this.gestures.delete(e.pointerId)
  }

  private startPinch (): void {
    const [a, b] = [...this.touches.values()]
    this.pinch = { d0: Math.max(1, Math.hypot(b.x - a.x, b.y - a.y)), cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, v0: { ...this.view } }
  }

  private movePinch (): void {
    const p = this.pinch
    if (!p || this.touches.size < 2) return
    const [a, b] = [...this.touches.values()]
    const r = this.el.getBoundingClientRect()
    const d = Math.max(1, Math.hypot(b.x - a.x, b.y - a.y))
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, p.v0.scale * d / p.d0))
    // The world point that was under the fingers' first midpoint stays under their midpoint.
    const wx = (p.cx - r.left - p.v0.x) / p.v0.scale
    const wy = (p.cy - r.top - p.v0.y) / p.v0.scale
    const cx = (a.x + b.x) / 2 - r.left
    const cy = (a.y + b.y) / 2 - r.top
    this.setView({ scale, x: cx - wx * scale, y: cy - wy * scale })
  }

  private onWheel (e: WheelEvent): void {
    e.preventDefault()
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1
    if (e.ctrlKey || e.metaKey) {
      this.zoomBy(Math.exp(-e.deltaY * unit * 0.0025), e.clientX, e.clientY)
    } else if (e.shiftKey && e.deltaX === 0) {
      this.panBy(-e.deltaY * unit, 0)
    } else {
      this.panBy(-e.deltaX * unit, -e.deltaY * unit)
    }
  }

  private onKey (e: KeyboardEvent, down: boolean): void {
    if (e.code !== 'Space') return
    const target = e.target as HTMLElement | null
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) return
    if (down && !this.el.contains(target) && target !== document.body) return
    e.preventDefault()
    this.setSpace(down)
  }

  private setSpace (held: boolean): void {
    this.spaceHeld = held
    this.el.classList.toggle('space-pan', held)
  }
}
