// Selection handles of the drawing layers: an outline around each selected stroke, shape, image
// or frame; corner handles to resize a single selected shape, label, image or frame (an image
// keeps its proportions); end handles to re-attach a selected arrow (drop an end on an item to
// attach it, anywhere else to leave it free). Handles keep their size on screen whatever the
// zoom and are large enough for a finger.

import { h } from '../dom'
import { t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import { mayEdit, oneUndoStep } from './drawn'
import type { FramesLayer } from './frames'
import type { ShapesLayer } from './shapes'
import type { StrokesLayer } from './strokes'
import { LOCAL } from './sync'

type Corner = 'nw' | 'ne' | 'sw' | 'se'
const CORNERS: Corner[] = ['nw', 'ne', 'sw', 'se']
const MIN_SIZE = 8

export class Handles {
  readonly el: HTMLElement
  private frame = 0
  private readonly target: HTMLElement

  constructor (private readonly ctx: BoardContext, private readonly strokes: StrokesLayer, private readonly shapes: ShapesLayer, private readonly frames: FramesLayer) {
    this.el = h('div', { class: 'item-handles' })
    this.target = h('div', { class: 'arrow-target', hidden: true })
    this.el.append(this.target)
    ctx.canvas.world.append(this.el)
    ctx.selection.onChange(() => this.schedule())
    for (const layer of [strokes, shapes, frames]) layer.onChange(() => this.schedule())
    this.render()
  }

  destroy (): void { cancelAnimationFrame(this.frame) }

  schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render() })
  }

  private boxOf (id: string): Rect | null {
    for (const layer of [this.strokes, this.shapes, this.frames]) {
      if (layer.has(id)) return layer.bounds([id])
    }
    return null
  }

  render (): void {
    for (const child of Array.from(this.el.children)) if (child !== this.target) child.remove()
    const ids = this.ctx.selection.list()
    for (const id of ids) {
      const r = this.boxOf(id)
      const isArrow = this.shapes.get(id)?.type === 'arrow'
      if (!r || isArrow) continue
      this.el.append(place(h('div', { class: 'item-outline', 'aria-hidden': 'true' }), r))
    }
    if (ids.length !== 1 || !this.ctx.canEdit()) return
    const id = ids[0]
    const arrow = this.shapes.get(id)
    if (arrow?.type === 'arrow') {
      const g = this.shapes.resolve(arrow)
      if (!g) return
      for (const [which, p] of [['from', g.a], ['to', g.b]] as const) {
        const handle = h('div', { class: 'handle handle-end', 'data-end': which, 'aria-hidden': 'true', title: t('handle.arrowEnd') })
        handle.style.transform = `translate(${p[0]}px, ${p[1]}px)`
        handle.addEventListener('pointerdown', (e) => this.dragEnd(id, which, e))
        this.el.append(handle)
      }
      return
    }
    const layer = this.shapes.has(id) ? this.shapes : this.frames.has(id) ? this.frames : null
    const mode = layer?.resizeMode(id) ?? null
    const r = this.boxOf(id)
    if (!layer || !mode || !r) return
    for (const corner of CORNERS) {
      const handle = h('div', { class: `handle handle-corner handle-${corner}`, 'data-corner': corner, 'aria-hidden': 'true', title: t('handle.resize') })
      const x = corner.endsWith('w') ? r.x : r.x + r.w
      const y = corner.startsWith('n') ? r.y : r.y + r.h
      handle.style.transform = `translate(${x}px, ${y}px)`
      handle.addEventListener('pointerdown', (e) => this.dragCorner(id, corner, mode, layer, r, e))
      this.el.append(handle)
    }
  }

  private dragCorner (id: string, corner: Corner, mode: 'free' | 'ratio', layer: ShapesLayer | FramesLayer, start: Rect, e: PointerEvent): void {
    if (e.button !== 0 || !mayEdit(this.ctx)) return
    e.stopPropagation()
    const [fx, fy] = [corner.endsWith('w') ? start.x + start.w : start.x, corner.startsWith('n') ? start.y + start.h : start.y]
    let next: Rect | null = null
    let frame = 0
    let done: (() => void) | null = null
    const apply = (): void => {
      frame = 0
      if (next) { const r = next; this.ctx.doc.transact(() => layer.resize(id, r), LOCAL) }
      next = null
    }
    const claimed = this.ctx.canvas.claim(e, {
      move: (ev) => {
        done ??= oneUndoStep(this.ctx)
        const [px, py] = this.ctx.canvas.toWorld(ev.clientX, ev.clientY)
        let w = Math.max(MIN_SIZE, corner.endsWith('w') ? fx - px : px - fx)
        let hh = Math.max(MIN_SIZE, corner.startsWith('n') ? fy - py : py - fy)
        if (mode === 'ratio' || ev.shiftKey) {
          const k = Math.max(w / start.w, hh / start.h)
          w = Math.max(MIN_SIZE, start.w * k)
          hh = Math.max(MIN_SIZE, start.h * k)
        }
        next = { x: corner.endsWith('w') ? fx - w : fx, y: corner.startsWith('n') ? fy - hh : fy, w, h: hh }
        if (!frame) frame = requestAnimationFrame(apply)
      },
      end: () => { cancelAnimationFrame(frame); apply(); done?.() },
      cancel: () => { cancelAnimationFrame(frame); done?.() }
    })
    if (claimed) e.preventDefault()
  }

  private dragEnd (id: string, which: 'from' | 'to', e: PointerEvent): void {
    if (e.button !== 0 || !mayEdit(this.ctx)) return
    e.stopPropagation()
    let done: (() => void) | null = null
    let frame = 0
    let point: [number, number] | null = null
    const apply = (): void => {
      frame = 0
      if (!point) return
      const p = point
      this.ctx.doc.transact(() => this.shapes.setArrowEnd(id, which, { xy: p }), LOCAL)
    }
    const showTarget = (p: [number, number] | null): string | null => {
      const target = p ? this.shapes.targetAt(p, id) : null
      const r = target ? this.ctx.layers.find((l) => l.has(target))?.bounds([target]) ?? null : null
      this.target.hidden = !r
      if (r) place(this.target, r)
      return target
    }
    const claimed = this.ctx.canvas.claim(e, {
      move: (ev) => {
        done ??= oneUndoStep(this.ctx)
        point = this.ctx.canvas.toWorld(ev.clientX, ev.clientY)
        showTarget(point)
        if (!frame) frame = requestAnimationFrame(apply)
      },
      end: (ev) => {
        cancelAnimationFrame(frame)
        if (done) {
          const p = this.ctx.canvas.toWorld(ev.clientX, ev.clientY)
          const target = showTarget(p)
          this.ctx.doc.transact(() => this.shapes.setArrowEnd(id, which, target ? { id: target } : { xy: p }), LOCAL)
          done()
        }
        this.target.hidden = true
      },
      cancel: () => { cancelAnimationFrame(frame); this.target.hidden = true; done?.() }
    })
    if (claimed) e.preventDefault()
  }
}

function place (el: HTMLElement, r: Rect): HTMLElement {
  el.style.transform = `translate(${r.x}px, ${r.y}px)`
  el.style.width = `${r.w}px`
  el.style.height = `${r.h}px`
  return el
}
