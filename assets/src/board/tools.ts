// The drawing tools: the palette (select, pen, eraser, rectangle, ellipse, arrow, text, frame,
// image) with its keyboard shortcuts, the style of what is drawn (ink colour, width, fill), and
// what a pointer does on the board with each tool. Images come from the file picker, a drop or
// a paste.
//
// With a drawing tool, a pointer that goes down anywhere on the board (even on a note) draws:
// the tools take it in the capture phase, before items and the canvas see it. Mouse, pen and a
// single finger draw; two fingers still pan and zoom (the canvas turns the second finger into a
// pinch, which cancels the stroke). Once a pen has been used on this board, fingers pan and only
// the pen draws, and while the pen is down touches are ignored (the canvas' palm rejection).
// After a rectangle, ellipse, arrow, text or frame the tool returns to selection, with the new
// item selected; the pen and the eraser stay until changed. Escape returns to selection.

import { announce, h, svg } from '../dom'
import { inkLabel, t, type MessageKey } from '../i18n'
import { ApiError } from '../api'
import type { Gesture, Rect } from './canvas'
import type { BoardContext } from './context'
import { mayEdit } from './drawn'
import { gateButton } from './facilitation'
import type { FramesLayer } from './frames'
import { rectFrom, type Point } from './geometry'
import type { Handles } from './handles'
import { icon, type IconName } from './icons'
import { IMAGE_TYPES, isSupportedImage, MAX_IMAGE_BYTES, placedSize, type ImageStore } from './images'
import {
  DEFAULT_FRAME_SIZE, DEFAULT_INK, DEFAULT_LABEL_SIZE, DEFAULT_SHAPE_WIDTH, DEFAULT_STROKE_WIDTH, INK_COLORS,
  STROKE_WIDTHS, type ArrowEnd, type InkColor
} from './schema'
import type { ShapesLayer } from './shapes'
import type { StrokesLayer } from './strokes'
import { widthLabel } from './strokes'
import { LOCAL } from './sync'

export type Tool = 'select' | 'pen' | 'eraser' | 'rect' | 'ellipse' | 'arrow' | 'text' | 'frame'

interface ToolDef { id: Tool | 'image', icon: IconName, label: MessageKey, key: string }

const TOOLS: ToolDef[] = [
  { id: 'select', icon: 'select', label: 'tool.select', key: 'V' },
  { id: 'pen', icon: 'pen', label: 'tool.pen', key: 'P' },
  { id: 'eraser', icon: 'eraser', label: 'tool.eraser', key: 'E' },
  { id: 'rect', icon: 'rect', label: 'tool.rect', key: 'R' },
  { id: 'ellipse', icon: 'ellipse', label: 'tool.ellipse', key: 'O' },
  { id: 'arrow', icon: 'arrow', label: 'tool.arrow', key: 'A' },
  { id: 'text', icon: 'text', label: 'tool.text', key: 'T' },
  { id: 'frame', icon: 'frame', label: 'tool.frame', key: 'F' },
  { id: 'image', icon: 'image', label: 'tool.image', key: 'I' }
]

/** The top-level map each tool adds items to (what a phase may not allow); none for the others. */
const ROOT_OF: Partial<Record<Tool | 'image', string>> = {
  pen: 'strokes', rect: 'shapes', ellipse: 'shapes', arrow: 'shapes', text: 'shapes', image: 'shapes', frame: 'frames'
}

/** Tools whose items take the ink colour (and width) chosen in the options. */
const STYLED: Tool[] = ['pen', 'rect', 'ellipse', 'arrow', 'text']
/** A drag shorter than this (screen pixels) is a tap. */
const TAP_SLOP = 6
/** Eraser radius, screen pixels. */
const ERASER_RADIUS = 12
/** Thinning distance of strokes, screen pixels. */
const STROKE_STEP = 1.5

export class Tools {
  tool: Tool = 'select'
  color: InkColor = DEFAULT_INK
  width: number = DEFAULT_STROKE_WIDTH
  fill = false
  readonly palette: HTMLElement
  readonly options: HTMLElement
  private readonly fileInput: HTMLInputElement
  private readonly toast: HTMLElement
  private toastTimer = 0
  private readonly preview: HTMLElement
  private readonly cleanups: Array<() => void> = []
  /** A pen was used on this board: fingers pan instead of drawing. */
  private penSeen = false
  /** Last pointer position over the board (world), where a paste goes. */
  private pointer: Point | null = null

  constructor (
    private readonly ctx: BoardContext,
    private readonly strokes: StrokesLayer,
    private readonly shapes: ShapesLayer,
    private readonly frames: FramesLayer,
    private readonly handles: Handles,
    private readonly images: ImageStore
  ) {
    this.palette = h('div', { class: 'tool-group tool-palette', role: 'group' })
    this.options = h('div', { class: 'tool-group draw-options', role: 'group' })
    // Never shown: the Image button (or I) opens its chooser.
    this.fileInput = h('input', { type: 'file', accept: IMAGE_TYPES.join(','), multiple: true, hidden: true })
    this.fileInput.addEventListener('change', () => {
      const files = Array.from(this.fileInput.files ?? [])
      this.fileInput.value = ''
      void this.addImages(files, null)
    })
    this.toast = h('div', { class: 'board-toast', role: 'status', hidden: true })
    this.preview = h('div', { class: 'draw-preview', hidden: true })
    handles.el.append(this.preview)
    const el = ctx.canvas.el
    el.append(this.toast, h('p', { id: 'drawn-keyboard-hint', class: 'visually-hidden' }))
    this.listen(el, 'pointerdown', (e) => this.onPointerDown(e as PointerEvent), true)
    this.listen(el, 'pointermove', (e) => { this.pointer = ctx.canvas.toWorld((e as PointerEvent).clientX, (e as PointerEvent).clientY) })
    this.listen(el, 'dragover', (e) => this.onDragOver(e as DragEvent))
    this.listen(el, 'dragleave', () => el.classList.remove('drop-target'))
    this.listen(el, 'drop', (e) => this.onDrop(e as DragEvent))
    this.listen(document, 'paste', (e) => this.onPaste(e as ClipboardEvent))
    ctx.selection.onChange(() => this.update())
    this.build()
  }

  private listen (target: EventTarget, type: string, fn: (e: Event) => void, capture = false): void {
    target.addEventListener(type, fn, capture)
    this.cleanups.push(() => target.removeEventListener(type, fn, capture))
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    clearTimeout(this.toastTimer)
  }

  // ---- the palette and the options -------------------------------------------------------

  /** (Re)builds the palette and the options in the current language. */
  build (): void {
    this.palette.setAttribute('aria-label', t('tools.label'))
    this.options.setAttribute('aria-label', t('tools.options'))
    this.palette.replaceChildren(...TOOLS.map((def) => {
      const text = t(def.label)
      const b = h('button', { type: 'button', class: 'tool', 'data-draw-tool': def.id, title: `${text} (${def.key})`, 'aria-keyshortcuts': def.key },
        icon(def.icon), h('span', { class: 'tool-label' }, text))
      b.addEventListener('click', () => {
        if (def.id === 'image') this.pickImages()
        else this.setTool(this.tool === def.id && def.id !== 'select' ? 'select' : def.id)
      })
      return b
    }), this.fileInput)
    const colors = h('div', { class: 'swatches ink-swatches', role: 'group', 'aria-label': t('tools.color') },
      ...INK_COLORS.map((c) => {
        const s = h('button', { type: 'button', class: 'swatch ink-swatch', 'data-ink': c, 'aria-label': inkLabel(c), title: inkLabel(c) })
        s.addEventListener('click', () => this.setStyle({ color: c }))
        return s
      }))
    const widths = h('div', { class: 'widths', role: 'group', 'aria-label': t('tools.width') },
      ...STROKE_WIDTHS.map((w) => {
        const b = h('button', { type: 'button', class: 'tool width-choice', 'data-width': String(w), 'aria-label': widthLabel(w), title: widthLabel(w) },
          svg('svg', { viewBox: '0 0 24 24', width: 24, height: 24, 'aria-hidden': 'true', focusable: 'false', class: 'icon' },
            svg('path', { d: 'M4 12h16', stroke: 'currentColor', 'stroke-width': Math.min(10, Math.max(1.5, w / 1.6)), 'stroke-linecap': 'round' })))
        b.addEventListener('click', () => this.setStyle({ width: w }))
        return b
      }))
    const fill = h('button', { type: 'button', class: 'tool fill-choice', 'data-fill-toggle': '', title: t('tools.fill') },
      icon('fill'), h('span', { class: 'tool-label' }, t('tools.fill')))
    fill.addEventListener('click', () => this.setStyle({ fill: !this.fill }))
    this.options.replaceChildren(colors, widths, fill)
    const hint = document.getElementById('drawn-keyboard-hint')
    if (hint) hint.textContent = t('item.keyboardHint')
    this.update()
  }

  /** Puts the palette first in the toolbar and the options after it (after each rebuild). */
  mount (toolbar: HTMLElement): void {
    toolbar.prepend(this.palette)
    this.palette.after(this.options)
  }

  /** The drawn items (not images) among the selection, by layer. */
  private selectedStyled (): { strokes: string[], shapes: string[] } {
    const ids = this.ctx.selection.list()
    return {
      strokes: ids.filter((id) => this.strokes.has(id)),
      shapes: ids.filter((id) => { const d = this.shapes.get(id); return d !== null && d.type !== 'image' })
    }
  }

  update (): void {
    const editable = this.ctx.canEdit()
    // Viewers see no drawing tools at all.
    this.palette.hidden = !editable
    if (!editable && this.tool !== 'select') this.setTool('select', { quiet: true })
    const sel = this.selectedStyled()
    const styling = editable && (STYLED.includes(this.tool) || sel.strokes.length > 0 || sel.shapes.length > 0)
    this.options.hidden = !styling
    for (const b of Array.from(this.palette.querySelectorAll<HTMLButtonElement>('[data-draw-tool]'))) {
      const id = b.dataset.drawTool as Tool | 'image'
      if (id !== 'image') b.setAttribute('aria-pressed', String(id === this.tool))
      b.disabled = !editable
      // Still focusable when the phase does not allow it: a tap says why.
      const def = TOOLS.find((d) => d.id === id)
      const root = ROOT_OF[id]
      const refusal = root ? this.ctx.addRefusal(root) : null
      gateButton(b, refusal, def ? `${t(def.label)} (${def.key})` : '')
    }
    // The phase changed under a tool it no longer allows: back to selection.
    const root = ROOT_OF[this.tool]
    if (root && this.ctx.addRefusal(root) !== null) this.setTool('select', { quiet: true })
    for (const s of Array.from(this.options.querySelectorAll<HTMLButtonElement>('[data-ink]'))) s.setAttribute('aria-pressed', String(s.dataset.ink === this.color))
    for (const b of Array.from(this.options.querySelectorAll<HTMLButtonElement>('[data-width]'))) b.setAttribute('aria-pressed', String(Number(b.dataset.width) === this.width))
    const fill = this.options.querySelector<HTMLButtonElement>('[data-fill-toggle]')
    if (fill) {
      fill.setAttribute('aria-pressed', String(this.fill))
      fill.hidden = !(this.tool === 'rect' || this.tool === 'ellipse' || sel.shapes.some((id) => { const d = this.shapes.get(id); return d?.type === 'rect' || d?.type === 'ellipse' }))
    }
    const el = this.ctx.canvas.el
    for (const def of TOOLS) el.classList.toggle(`tool-${def.id}`, def.id === this.tool)
    el.classList.toggle('drawing-tool', this.tool !== 'select')
  }

  setTool (tool: Tool, { quiet = false } = {}): void {
    if (tool !== 'select' && !this.ctx.canEdit()) return
    if (tool === this.tool) return
    if (this.refused(tool)) return
    this.tool = tool
    this.update()
    if (!quiet) {
      const def = TOOLS.find((d) => d.id === tool)
      if (def) announce(t('tools.active', { tool: t(def.label), hint: t(tool === 'select' ? 'tools.hintSelect' : tool === 'pen' || tool === 'eraser' ? 'tools.hintDraw' : 'tools.hintCreate') }))
    }
  }

  /** Changes the style of what is drawn next, and of the selected strokes and shapes. */
  private setStyle (style: { color?: InkColor, width?: number, fill?: boolean }): void {
    if (style.color) this.color = style.color
    if (style.width) this.width = style.width
    if (style.fill !== undefined) this.fill = style.fill
    const sel = this.selectedStyled()
    if ((sel.strokes.length || sel.shapes.length) && mayEdit(this.ctx)) {
      this.ctx.undo.stopCapturing()
      this.ctx.doc.transact(() => {
        this.strokes.restyle(sel.strokes, { color: style.color, width: style.width })
        this.shapes.restyle(sel.shapes, {
          color: style.color,
          width: style.width === undefined ? undefined : shapeWidth(style.width),
          fill: style.fill === undefined ? undefined : style.fill ? this.color : null
        })
      }, LOCAL)
      this.ctx.undo.stopCapturing()
    }
    if (style.color) announce(t('tools.colored', { color: inkLabel(style.color) }))
    this.update()
  }

  /** Says why the current phase does not let this participant use `tool`, and returns true. */
  private refused (tool: Tool | 'image'): boolean {
    const root = ROOT_OF[tool]
    const why = root ? this.ctx.addRefusal(root) : null
    if (why !== null) this.ctx.tell(why)
    return why !== null
  }

  // ---- keyboard ----------------------------------------------------------------------------

  /** Keys on the board outside text fields; returns true when handled. */
  handleKey (e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey) return false
    if (e.altKey) return this.resizeByKey(e)
    const key = e.key.toLowerCase()
    if (key === 'escape') {
      if (this.shapes.isEditing() || this.frames.isEditing()) return false
      if (this.tool !== 'select') { this.setTool('select'); return true }
      return false
    }
    if (key === 'enter' || key === 'f2') {
      const focused = (e.target as Element | null)?.closest?.('[data-item-id]')
      const id = focused instanceof Element ? focused.getAttribute('data-item-id') : null
      if (id && this.tool === 'select') {
        if ((this.shapes.get(id)?.type === 'label' || this.frames.has(id)) && this.ctx.lockedForMe(id)) {
          this.ctx.tell(t('lock.refused'))
          return true
        }
        // Labels and frames have text to edit; other items leave Enter to the board.
        if (this.shapes.get(id)?.type === 'label') this.shapes.activate(id)
        else if (this.frames.has(id)) this.frames.activate(id)
        else return false
        return true
      }
      if (key === 'enter' && ['rect', 'ellipse', 'arrow', 'text', 'frame'].includes(this.tool)) {
        this.createAtCentre()
        return true
      }
      return false
    }
    if (e.shiftKey) return false
    const def = TOOLS.find((d) => d.key.toLowerCase() === key)
    if (!def || !this.ctx.canEdit()) return false
    if (def.id === 'image') this.pickImages()
    else this.setTool(def.id)
    return true
  }

  /** Alt + arrows resize the selected shapes, images and frames (Shift: five times more). */
  private resizeByKey (e: KeyboardEvent): boolean {
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }
    const dir = arrows[e.key]
    if (!dir) return false
    const targets = this.ctx.selection.list()
      .map((id) => [id, this.shapes.resizeMode(id) ? this.shapes : this.frames.resizeMode(id) ? this.frames : null] as const)
      .filter((p): p is readonly [string, ShapesLayer | FramesLayer] => p[1] !== null)
    if (!targets.length) return false
    if (!mayEdit(this.ctx)) return true
    const step = e.shiftKey ? 80 : 16
    this.ctx.doc.transact(() => {
      for (const [id, layer] of targets) {
        const r = layer.bounds([id])
        if (!r) continue
        let w = Math.max(8, r.w + dir[0] * step)
        let hh = Math.max(8, r.h + dir[1] * step)
        if (layer.resizeMode(id) === 'ratio') {
          const k = dir[0] !== 0 ? w / r.w : hh / r.h
          w = r.w * k
          hh = r.h * k
        }
        layer.resize(id, { x: r.x, y: r.y, w, h: hh })
      }
    }, LOCAL)
    return true
  }

  /** Enter with a creation tool: the item at the centre of the view (keyboard users). */
  private createAtCentre (): void {
    const [cx, cy] = this.ctx.canvas.center()
    if (this.tool === 'arrow') {
      const sel = this.ctx.selection.list().filter((id) => this.ctx.layers.some((l) => l.has(id)) && this.shapes.get(id)?.type !== 'arrow' && !this.strokes.has(id))
      if (sel.length === 2) {
        this.finishCreate(this.shapes.add({ type: 'arrow', from: { id: sel[0] }, to: { id: sel[1] }, color: this.color, width: shapeWidth(this.width) }))
      } else {
        this.finishCreate(this.shapes.add({ type: 'arrow', from: { xy: [cx - 120, cy] }, to: { xy: [cx + 120, cy] }, color: this.color, width: shapeWidth(this.width) }))
      }
      return
    }
    this.createBox(this.tool, null, [cx, cy])
  }

  // ---- pointer -----------------------------------------------------------------------------

  private onPointerDown (e: PointerEvent): void {
    if (e.pointerType === 'pen') this.penSeen = true
    if (this.tool === 'select' || e.button !== 0 || this.ctx.canvas.spacePanning) return
    if ((e.target as Element | null)?.closest?.('button, a, input, select, textarea, .zoom-controls, .board-toast')) return
    if (e.pointerType === 'touch' && this.penSeen) return
    if (!this.ctx.canEdit()) { this.setTool('select', { quiet: true }); return }
    if (this.tool !== 'eraser' && this.refused(this.tool)) {
      this.setTool('select', { quiet: true })
      e.stopPropagation()
      e.preventDefault()
      return
    }
    let inner: Gesture | null = null
    const claimed = this.ctx.canvas.claim(e, {
      move: (ev) => inner?.move(ev),
      end: (ev) => inner?.end(ev),
      cancel: () => inner?.cancel()
    })
    if (!claimed) return
    e.stopPropagation()
    e.preventDefault()
    if (document.activeElement !== this.ctx.canvas.el) this.ctx.canvas.el.focus({ preventScroll: true, focusVisible: false } as FocusOptions)
    this.ctx.selection.clear()
    inner = this.tool === 'pen'
      ? this.penGesture(e)
      : this.tool === 'eraser'
        ? this.eraserGesture(e)
        : this.tool === 'arrow' ? this.arrowGesture(e) : this.boxGesture(e, this.tool)
  }

  private world (e: PointerEvent): Point {
    return this.ctx.canvas.toWorld(e.clientX, e.clientY)
  }

  private penGesture (e: PointerEvent): Gesture {
    const pen = e.pointerType === 'pen'
    const sim = new SimulatedPressure(e)
    const pressureOf = (ev: PointerEvent): number => pen ? (ev.pressure > 0 ? ev.pressure : 0.5) : sim.next(ev)
    const style = { color: this.color, width: this.width, pen }
    const [x, y] = this.world(e)
    let builder = this.strokes.begin(x, y, pen ? pressureOf(e) : 0.5, style)
    return {
      move: (ev) => {
        const step = STROKE_STEP / this.ctx.canvas.view.scale
        const events = ev.getCoalescedEvents?.() ?? []
        for (const c of events.length ? events : [ev]) {
          const [wx, wy] = this.world(c)
          builder.add(wx, wy, pressureOf(c), step)
          if (builder.full) {
            const [ex, ey, ep] = builder.end
            builder.finish()
            builder = this.strokes.begin(ex, ey, ep, style)
          }
        }
      },
      end: () => builder.finish(),
      cancel: () => builder.cancel()
    }
  }

  private eraserGesture (e: PointerEvent): Gesture {
    let last = this.world(e)
    const marked = new Set<string>()
    const visit = (a: Point, b: Point): void => {
      const r = ERASER_RADIUS / this.ctx.canvas.view.scale
      for (const id of [...this.strokes.hit(a, b, r), ...this.shapes.hit(a, b, r)]) {
        // What a facilitator locked is not erased (nor marked as if it would be).
        if (marked.has(id) || this.ctx.lockedForMe(id)) continue
        marked.add(id)
        this.elementOf(id)?.classList.add('erasing')
      }
    }
    const unmark = (): void => { for (const id of marked) this.elementOf(id)?.classList.remove('erasing') }
    visit(last, last)
    return {
      move: (ev) => {
        const p = this.world(ev)
        visit(last, p)
        last = p
      },
      end: () => {
        unmark()
        const ids = [...marked].filter((id) => this.strokes.has(id) || this.shapes.has(id))
        if (!ids.length) return
        this.ctx.undo.stopCapturing()
        this.ctx.doc.transact(() => {
          this.strokes.remove(ids.filter((id) => this.strokes.has(id)))
          this.shapes.remove(ids.filter((id) => this.shapes.has(id)))
        }, LOCAL)
        this.ctx.undo.stopCapturing()
        announce(t('eraser.erased', { n: ids.length }))
      },
      cancel: unmark
    }
  }

  private elementOf (id: string): Element | null {
    return this.strokes.element(id) ?? this.shapes.element(id)
  }

  /** Rectangle, ellipse, text and frame: drag out the box (a tap: the default size). */
  private boxGesture (e: PointerEvent, tool: Tool): Gesture {
    const a = this.world(e)
    const sx = e.clientX
    const sy = e.clientY
    let moved = false
    const preview = this.preview
    preview.className = `draw-preview draw-preview-${tool}`
    const boxOf = (ev: PointerEvent): Rect => {
      let [bx, by] = this.world(ev)
      if (ev.shiftKey && tool !== 'text') {
        const side = Math.max(Math.abs(bx - a[0]), Math.abs(by - a[1]))
        bx = a[0] + Math.sign(bx - a[0] || 1) * side
        by = a[1] + Math.sign(by - a[1] || 1) * side
      }
      return rectFrom(a, [bx, by])
    }
    return {
      move: (ev) => {
        if (!moved && Math.hypot(ev.clientX - sx, ev.clientY - sy) < TAP_SLOP) return
        moved = true
        place(preview, boxOf(ev))
        preview.hidden = false
      },
      end: (ev) => {
        preview.hidden = true
        this.createBox(tool, moved ? boxOf(ev) : null, a)
      },
      cancel: () => { preview.hidden = true }
    }
  }

  /** Creates a box item: in `r`, or (null) at its default size around `at`. */
  private createBox (tool: Tool, r: Rect | null, at: Point): void {
    const defaults: Record<string, [number, number]> = { rect: [200, 140], ellipse: [200, 140], text: DEFAULT_LABEL_SIZE, frame: DEFAULT_FRAME_SIZE }
    let size = defaults[tool]
    if (!size) return
    if (tool === 'frame') {
      // A frame placed without dragging fits comfortably in the view.
      const v = this.ctx.canvas.visibleWorld()
      const k = Math.min(1, (v.w * 0.7) / size[0], (v.h * 0.7) / size[1])
      size = [size[0] * k, size[1] * k]
    }
    const box = r && r.w >= 4 && r.h >= 4 ? r : { x: at[0] - size[0] / 2, y: at[1] - size[1] / 2, w: size[0], h: size[1] }
    let id: string | null = null
    if (tool === 'frame') {
      id = this.frames.add(box)
    } else if (tool === 'text') {
      id = this.shapes.add({ type: 'label', ...box, color: this.color })
    } else if (tool === 'rect' || tool === 'ellipse') {
      id = this.shapes.add({ type: tool, ...box, color: this.color, fill: this.fill ? this.color : null, width: shapeWidth(this.width) })
    }
    this.finishCreate(id)
    if (id && tool === 'text') this.shapes.activate(id)
    // A new frame's title is selected: typing replaces the default one.
    if (id && tool === 'frame') this.frames.activate(id, { selectAll: true })
  }

  private finishCreate (id: string | null): void {
    if (!id) return
    this.setTool('select', { quiet: true })
    this.ctx.selection.set([id])
    const el = this.shapes.element(id) ?? this.frames.element(id)
    el?.focus({ preventScroll: true, focusVisible: false } as FocusOptions)
    announce(t('tools.created', { item: el?.getAttribute('aria-roledescription') ?? '' }))
  }

  private arrowGesture (e: PointerEvent): Gesture {
    const a = this.world(e)
    const from = this.shapes.targetAt(a)
    const sx = e.clientX
    const sy = e.clientY
    let moved = false
    const line = svg('path', { class: 'arrow-preview-line' })
    const preview = svg('svg', { class: 'arrow-preview', 'aria-hidden': 'true' }, line)
    this.handles.el.append(preview)
    const target = h('div', { class: 'arrow-target' })
    this.handles.el.append(target)
    const show = (b: Point): string | null => {
      const to = this.shapes.targetAt(b, from)
      const r = to ? this.ctx.layers.find((l) => l.has(to))?.bounds([to]) ?? null : null
      target.hidden = !r
      if (r) place(target, r)
      line.setAttribute('d', `M${a[0]} ${a[1]}L${b[0]} ${b[1]}`)
      return to
    }
    const clean = (): void => { preview.remove(); target.remove() }
    return {
      move: (ev) => {
        if (!moved && Math.hypot(ev.clientX - sx, ev.clientY - sy) < TAP_SLOP) return
        moved = true
        show(this.world(ev))
      },
      end: (ev) => {
        clean()
        if (!moved) { announce(t('tools.hintArrow')); return }
        const b = this.world(ev)
        const to = this.shapes.targetAt(b, from)
        const start: ArrowEnd = from ? { id: from } : { xy: a }
        const end: ArrowEnd = to ? { id: to } : { xy: b }
        this.finishCreate(this.shapes.add({ type: 'arrow', from: start, to: end, color: this.color, width: shapeWidth(this.width) }))
      },
      cancel: clean
    }
  }

  // ---- images ------------------------------------------------------------------------------

  pickImages (): void {
    if (!mayEdit(this.ctx) || this.refused('image')) return
    this.fileInput.click()
  }

  private onDragOver (e: DragEvent): void {
    if (!e.dataTransfer || !Array.from(e.dataTransfer.types).includes('Files') || !this.ctx.canEdit()) return
    e.preventDefault()
    e.dataTransfer.dropEffect = 'copy'
    this.ctx.canvas.el.classList.add('drop-target')
  }

  private onDrop (e: DragEvent): void {
    this.ctx.canvas.el.classList.remove('drop-target')
    const files = Array.from(e.dataTransfer?.files ?? [])
    if (!files.length) return
    e.preventDefault()
    void this.addImages(files, this.world(e as unknown as PointerEvent))
  }

  private onPaste (e: ClipboardEvent): void {
    if (e.defaultPrevented) return
    const target = e.target as HTMLElement | null
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target?.isContentEditable) return
    if (!this.ctx.canvas.el.isConnected) return
    const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith('image/'))
    if (!files.length) return
    e.preventDefault()
    void this.addImages(files, this.pointer)
  }

  /** Uploads images and places them, centred on `at` (or the view's centre), side by side. */
  async addImages (files: File[], at: Point | null): Promise<void> {
    if (!files.length || !mayEdit(this.ctx) || this.refused('image')) return
    let [x, y] = at ?? this.ctx.canvas.center()
    const added: string[] = []
    for (const file of files) {
      if (!isSupportedImage(file)) { this.say(t('image.unsupported'), true); continue }
      if (file.size > MAX_IMAGE_BYTES) { this.say(t('image.tooLarge'), true); continue }
      this.say(t('image.uploading'), false, false)
      try {
        const image = await this.images.upload(file)
        const [w, hh] = placedSize(image.width, image.height)
        const id = this.shapes.add({ type: 'image', x: x - w / 2, y: y - hh / 2, w, h: hh, asset: image.id, name: file.name.slice(0, 200) })
        if (id) added.push(id)
        x += w + 24
      } catch (err) {
        this.say(uploadError(err), true)
        return
      }
    }
    if (added.length) {
      this.ctx.selection.set(added)
      this.say(t('image.added', { n: added.length }), false)
    }
  }

  /** A short visible message over the board (and for screen readers). */
  private say (message: string, error: boolean, fade = true): void {
    clearTimeout(this.toastTimer)
    this.toast.textContent = message
    this.toast.hidden = false
    this.toast.classList.toggle('error', error)
    this.toast.setAttribute('role', error ? 'alert' : 'status')
    if (fade) this.toastTimer = window.setTimeout(() => { this.toast.hidden = true }, error ? 8000 : 3000)
  }
}

function uploadError (err: unknown): string {
  if (!(err instanceof ApiError)) return t('image.failed')
  if (err.code === 'board_images_full') return t('image.boardFull')
  switch (err.status) {
    case 0: return t('image.network')
    case 400: return t('image.badSize')
    case 403: return t('image.forbidden')
    case 413: return t('image.tooLarge')
    case 415: return t('image.unsupported')
    default: return t('image.failed')
  }
}

/** Shapes and arrows use a thinner outline than the pen for the same choice. */
function shapeWidth (penWidth: number): number {
  return penWidth <= 2 ? 2 : penWidth <= 4 ? DEFAULT_SHAPE_WIDTH : penWidth <= 8 ? 6 : 10
}

function place (el: HTMLElement, r: Rect): void {
  el.style.transform = `translate(${r.x}px, ${r.y}px)`
  el.style.width = `${r.w}px`
  el.style.height = `${r.h}px`
}

/**
 * Pressure for a mouse or a finger, from the speed of the pointer: slow is heavy, fast is
 * light, smoothed so the width flows.
 */
class SimulatedPressure {
  private last: { x: number, y: number, t: number }
  private p = 0.5

  constructor (e: PointerEvent) {
    this.last = { x: e.clientX, y: e.clientY, t: e.timeStamp }
  }

  next (e: PointerEvent): number {
    const dt = Math.max(1, e.timeStamp - this.last.t)
    const v = Math.hypot(e.clientX - this.last.x, e.clientY - this.last.y) / dt
    this.last = { x: e.clientX, y: e.clientY, t: e.timeStamp }
    const target = Math.min(0.62, Math.max(0.3, 0.62 - v * 0.12))
    this.p += (target - this.p) * 0.3
    return this.p
  }
}
