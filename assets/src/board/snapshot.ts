// A board as it was, read-only: a version's Yjs document (a fresh Y.Doc, never connected)
// drawn once from the schema's readers into its own pannable, zoomable view. Nothing here can
// change anything: there are no listeners on items, no selection, no shared types observed.
// Frames first, then clusters, then notes, strokes and shapes stacked by z like on the board.

import { getStroke } from 'perfect-freehand'
import type * as Y from 'yjs'
import { h, svg } from '../dom'
import { t } from '../i18n'
import { Canvas, type Rect } from './canvas'
import { exitPoint, unionRects } from './geometry'
import type { ImageStore } from './images'
import { fitFontSize } from './notes'
import {
  clustersOf, framesOf, isCluster, isFrame, isNote, isShape, isStroke, notesOf, readCluster, readFrame,
  readNote, readShape, readStroke, shapesOf, strokesOf, zCompare, type ArrowEnd, type ShapeData
} from './schema'
import { fitLabelFont } from './shapes'
import { pathFromOutline } from './strokes'

interface Stacked { z: string, id: string, el: Element }

/** Renders `doc` into `viewport` (which it fills); returns what to call when done. */
export function renderSnapshot (viewport: HTMLElement, doc: Y.Doc, images: ImageStore | null): { fit: () => void, destroy: () => void, count: number } {
  const canvas = new Canvas(viewport)
  canvas.setHooks({ doubleTap: () => {}, tap: () => {}, box: () => {}, boxMode: () => false, hover: () => {} })
  const world = canvas.world
  const boxes = new Map<string, Rect>()
  const rects: Rect[] = []
  const stacked: Stacked[] = []
  let count = 0

  const frames = [...framesOf(doc).entries()].filter(([, m]) => isFrame(m)).map(([id, m]) => readFrame(id, m)).sort(zCompare)
  for (const f of frames) {
    const el = h('div', { class: 'snap-frame' }, h('div', { class: 'snap-frame-title' }, f.title.trim() || t('frame.untitled')))
    place(el, f)
    world.append(el)
    boxes.set(f.id, f)
    rects.push(f)
    count++
  }
  const clusters = [...clustersOf(doc).entries()].filter(([, m]) => isCluster(m)).map(([id, m]) => readCluster(id, m)).sort(zCompare)
  for (const c of clusters) {
    const el = h('div', { class: 'snap-cluster', 'data-color': c.color }, h('div', { class: 'snap-cluster-title' }, c.title.trim() || t('cluster.untitled')))
    place(el, c)
    world.append(el)
    boxes.set(c.id, c)
    rects.push(c)
    count++
  }
  for (const [id, m] of notesOf(doc).entries()) {
    if (!isNote(m)) continue
    const n = readNote(id, m)
    const el = h('div', { class: 'snap-note', 'data-color': n.color }, n.text)
    el.style.fontSize = `${fitFontSize({ text: n.text, w: n.w, h: n.h })}px`
    if (n.votes > 0) el.append(h('span', { class: 'snap-votes' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), String(n.votes)))
    place(el, n)
    boxes.set(id, n)
    rects.push(n)
    stacked.push({ z: n.z, id, el })
    count++
  }
  for (const [id, m] of strokesOf(doc).entries()) {
    if (!isStroke(m)) continue
    const s = readStroke(id, m)
    if (s.points.length === 0) continue
    const outline = getStroke(s.points, { size: s.width, thinning: 0.5, smoothing: 0.5, streamline: 0.35, simulatePressure: false, last: true, start: { cap: true }, end: { cap: true } })
    const xs = s.points.map((p) => p[0])
    const ys = s.points.map((p) => p[1])
    const r = { x: s.x + Math.min(...xs) - s.width, y: s.y + Math.min(...ys) - s.width, w: Math.max(...xs) - Math.min(...xs) + s.width * 2, h: Math.max(...ys) - Math.min(...ys) + s.width * 2 }
    const el = svg('svg', { class: 'snap-svg', 'data-ink': s.color, width: 1, height: 1 },
      svg('path', { class: 'snap-ink', d: pathFromOutline(outline), transform: `translate(${s.x} ${s.y})` }))
    boxes.set(id, r)
    rects.push(r)
    stacked.push({ z: s.z, id, el })
    count++
  }
  const shapes: ShapeData[] = []
  for (const [id, m] of shapesOf(doc).entries()) {
    if (!isShape(m)) continue
    const d = readShape(id, m)
    if (!d) continue
    shapes.push(d)
    if (d.type !== 'arrow') boxes.set(id, d)
  }
  for (const d of shapes) {
    let el: Element
    if (d.type === 'rect' || d.type === 'ellipse') {
      const attrs = { class: 'snap-shape', 'data-ink': d.color, ...(d.fill ? { 'data-fill': d.fill } : {}), 'stroke-width': d.width }
      el = svg('svg', { class: 'snap-svg', width: 1, height: 1 }, d.type === 'rect'
        ? svg('rect', { ...attrs, x: d.x, y: d.y, width: d.w, height: d.h })
        : svg('ellipse', { ...attrs, cx: d.x + d.w / 2, cy: d.y + d.h / 2, rx: d.w / 2, ry: d.h / 2 }))
      rects.push(d)
    } else if (d.type === 'label') {
      el = h('div', { class: 'snap-label', 'data-ink': d.color }, d.text)
      ;(el as HTMLElement).style.fontSize = `${fitLabelFont(d.text, d.w, d.h)}px`
      place(el as HTMLElement, d)
      rects.push(d)
    } else if (d.type === 'image') {
      const img = h('img', { alt: d.name })
      el = h('div', { class: 'snap-image' }, img, h('span', { class: 'snap-image-name' }, d.name))
      place(el as HTMLElement, d)
      if (images && d.asset) images.url(d.asset).then((url) => { img.src = url; el.classList.add('ready') }).catch(() => {})
      rects.push(d)
    } else if (d.type === 'arrow') {
      const ends = arrowEnds(d.from, d.to, boxes)
      if (!ends) continue
      const [a, b] = ends
      const angle = Math.atan2(b[1] - a[1], b[0] - a[0])
      const size = 8 + d.width * 2.5
      const head = [
        [b[0], b[1]],
        [b[0] - size * Math.cos(angle - 0.45), b[1] - size * Math.sin(angle - 0.45)],
        [b[0] - size * Math.cos(angle + 0.45), b[1] - size * Math.sin(angle + 0.45)]
      ].map((p) => p.join(',')).join(' ')
      el = svg('svg', { class: 'snap-svg', 'data-ink': d.color, width: 1, height: 1 },
        svg('line', { class: 'snap-arrow', x1: a[0], y1: a[1], x2: b[0], y2: b[1], 'stroke-width': d.width }),
        svg('polygon', { class: 'snap-arrow-head', points: head }))
      rects.push({ x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), w: Math.abs(a[0] - b[0]), h: Math.abs(a[1] - b[1]) })
    } else {
      continue
    }
    stacked.push({ z: d.z, id: d.id, el })
    count++
  }
  stacked.sort(zCompare)
  for (const s of stacked) world.append(s.el)

  const bounds = unionRects(rects)
  const fit = (): void => canvas.fit(bounds)
  fit()
  return { fit, destroy: () => canvas.destroy(), count }
}

function place (el: HTMLElement, r: Rect): void {
  el.style.transform = `translate(${r.x}px, ${r.y}px)`
  el.style.width = `${r.w}px`
  el.style.height = `${r.h}px`
}

/** An arrow's two ends: attached ends start at the edge of their item (if it is there). */
function arrowEnds (from: ArrowEnd, to: ArrowEnd, boxes: Map<string, Rect>): [[number, number], [number, number]] | null {
  const at = (end: ArrowEnd): Rect | [number, number] | null => 'id' in end ? boxes.get(end.id) ?? null : end.xy
  const A = at(from)
  const B = at(to)
  if (!A || !B) return null
  const centre = (v: Rect | [number, number]): [number, number] => Array.isArray(v) ? v : [v.x + v.w / 2, v.y + v.h / 2]
  const a = Array.isArray(A) ? A : exitPoint(A, centre(B))
  const b = Array.isArray(B) ? B : exitPoint(B, centre(A))
  return [a, b]
}
