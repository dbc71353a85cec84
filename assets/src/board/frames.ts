// Frames (doc.getMap('frames')): titled areas (storyboard panels, screens), drawn under every
// other item. A frame is selected by its title or its border (its inside stays free for working
// on what it holds), moves what lies wholly inside it along, and is resized by its handles.

import { h } from '../dom'
import { t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import { DrawnLayer, editText, mayEdit, zOnTop, type DrawnView } from './drawn'
import {
  clamp, FRAME, frameTitle, framesOf, isFrame, makeFrame, MAX_SHAPE_SIZE, MIN_FRAME_SIZE, readFrame, round,
  type FrameData, type ItemMap
} from './schema'

const HINT_ID = 'drawn-keyboard-hint'

export class FramesLayer extends DrawnLayer<FrameData> {
  readonly name = 'frames'
  readonly areas = true
  private editing: { id: string, stop: () => void } | null = null

  constructor (ctx: BoardContext) {
    super(ctx, framesOf(ctx.doc), 'frames-layer', HINT_ID)
    // Under everything else: first in the world, and never given a z-index (stacking.ts).
    ctx.canvas.world.prepend(this.container)
    this.start()
  }

  override destroy (): void {
    this.editing?.stop()
    super.destroy()
  }

  protected read (id: string, m: ItemMap): FrameData | null {
    return isFrame(m) ? readFrame(id, m) : null
  }

  box (d: FrameData): Rect { return { x: d.x, y: d.y, w: d.w, h: d.h } }

  protected create (id: string): HTMLElement {
    const title = h('div', { class: 'frame-title' }, h('span', { class: 'frame-title-text' }))
    const edges = ['top', 'right', 'bottom', 'left'].map((side) => h('div', { class: `frame-edge frame-edge-${side}`, 'aria-hidden': 'true' }))
    const el = h('div', { class: 'frame' }, title, ...edges)
    for (const grip of [title, ...edges]) grip.addEventListener('pointerdown', (e) => this.grab(id, e))
    title.addEventListener('dblclick', (e) => { e.stopPropagation(); if (this.ctx.canEdit()) this.activate(id) })
    return el
  }

  protected render (v: DrawnView<FrameData>, d: FrameData, prev: FrameData | null): void {
    const el = v.el as HTMLElement
    el.style.transform = `translate(${d.x}px, ${d.y}px)`
    el.style.width = `${d.w}px`
    el.style.height = `${d.h}px`
    if ((!prev || prev.title !== d.title) && this.editing?.id !== d.id) {
      const text = el.querySelector('.frame-title-text') as HTMLElement
      text.textContent = d.title.trim() === '' ? t('frame.untitled') : d.title
      el.classList.toggle('untitled', d.title.trim() === '')
    }
  }

  protected override removed (id: string): void {
    if (this.editing?.id === id) this.editing.stop()
  }

  protected roleName (): string { return t('frame.role') }
  protected describe (d: FrameData): string { return d.title.trim() === '' ? t('frame.untitled') : d.title }
  protected override clipText (d: FrameData): string | undefined { return d.title }

  /** What lies wholly inside the given frames (any layer), to move along with them. */
  carried (ids: string[]): string[] {
    const out = new Set<string>()
    for (const id of ids) {
      const d = this.get(id)
      if (!d) continue
      for (const layer of this.ctx.layers) {
        for (const inner of layer.inRect(this.box(d), true)) if (inner !== id && !ids.includes(inner)) out.add(inner)
      }
    }
    return [...out]
  }

  /** Adds a frame on top of the other frames; returns its id. */
  add (r: Rect): string | null {
    if (!mayEdit(this.ctx)) return null
    const id = crypto.randomUUID()
    const w = clamp(r.w, MIN_FRAME_SIZE[0], MAX_SHAPE_SIZE)
    const hgt = clamp(r.h, MIN_FRAME_SIZE[1], MAX_SHAPE_SIZE)
    this.ctx.undo.stopCapturing()
    this.transact(() => this.map.set(id, makeFrame({
      x: r.x,
      y: r.y,
      w,
      h: hgt,
      title: t('frame.defaultTitle', { n: this.views.size + 1 }),
      z: zOnTop(this.ctx),
      createdBy: this.ctx.participantId
    })))
    this.ctx.undo.stopCapturing()
    return id
  }

  protected moveItem (m: ItemMap, d: FrameData, dx: number, dy: number): void {
    m.set(FRAME.xy, [round(d.x + dx), round(d.y + dy)])
  }

  resizeMode (id: string): 'free' | null { return this.has(id) ? 'free' : null }

  resize (id: string, r: Rect): void {
    const m = this.map.get(id)
    if (!m || !this.has(id)) return
    m.set(FRAME.xy, [round(r.x), round(r.y)])
    m.set(FRAME.wh, [round(clamp(r.w, MIN_FRAME_SIZE[0], MAX_SHAPE_SIZE)), round(clamp(r.h, MIN_FRAME_SIZE[1], MAX_SHAPE_SIZE))])
  }

  override activate (id: string, { selectAll = false } = {}): void {
    const el = this.element(id)
    const m = this.map.get(id)
    const title = m ? frameTitle(m) : null
    if (!(el instanceof HTMLElement) || !title || !mayEdit(this.ctx) || this.editing?.id === id) return
    this.editing?.stop()
    const bar = el.querySelector('.frame-title') as HTMLElement
    const shown = el.querySelector('.frame-title-text') as HTMLElement
    shown.hidden = true
    el.classList.add('editing')
    this.ctx.selection.set([id])
    const stop = editText(this.ctx, bar, title, {
      label: t('frame.editLabel'),
      className: 'frame-title-editor',
      singleLine: true,
      selectAll,
      onEnd: (refocus) => {
        if (this.editing?.id === id) this.editing = null
        el.classList.remove('editing')
        shown.hidden = false
        const d = this.get(id)
        shown.textContent = !d || d.title.trim() === '' ? t('frame.untitled') : d.title
        if (refocus) el.focus({ preventScroll: true })
      }
    })
    this.editing = { id, stop }
  }

  isEditing (): boolean { return this.editing !== null }
  stopEditing (): void { this.editing?.stop() }

  protected toJSON (_m: ItemMap, d: FrameData): Record<string, unknown> {
    return { xy: [d.x, d.y], wh: [d.w, d.h], title: d.title }
  }

  protected fromJSON (data: Record<string, unknown>, dx: number, dy: number, z: string): ItemMap | null {
    const xy = Array.isArray(data.xy) ? data.xy.map(Number) : []
    const wh = Array.isArray(data.wh) ? data.wh.map(Number) : []
    if (xy.length < 2 || wh.length < 2 || ![...xy, ...wh].every(Number.isFinite)) return null
    return makeFrame({
      x: xy[0] + dx,
      y: xy[1] + dy,
      w: clamp(wh[0], MIN_FRAME_SIZE[0], MAX_SHAPE_SIZE),
      h: clamp(wh[1], MIN_FRAME_SIZE[1], MAX_SHAPE_SIZE),
      title: typeof data.title === 'string' ? data.title.slice(0, 500) : '',
      z,
      createdBy: this.ctx.participantId
    })
  }
}
