// Plane geometry for the drawing layers: hit tests (eraser, taps), arrow ends clipped to the
// outline of what they attach to, rectangles. World units throughout; no DOM.

import type { Rect } from './canvas'

export type Point = [number, number]

/** Distance from p to the segment a–b. */
export function distToSegment (p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0]
  const dy = b[1] - a[1]
  const len2 = dx * dx + dy * dy
  let t = len2 === 0 ? 0 : ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2
  t = Math.max(0, Math.min(1, t))
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy))
}

function cross (o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/** Whether the segments a–b and c–d cross (touching counts). */
export function segmentsIntersect (a: Point, b: Point, c: Point, d: Point): boolean {
  const d1 = cross(c, d, a)
  const d2 = cross(c, d, b)
  const d3 = cross(a, b, c)
  const d4 = cross(a, b, d)
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true
  return (d1 === 0 && onSegment(c, d, a)) || (d2 === 0 && onSegment(c, d, b)) ||
    (d3 === 0 && onSegment(a, b, c)) || (d4 === 0 && onSegment(a, b, d))
}

function onSegment (a: Point, b: Point, p: Point): boolean {
  return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1])
}

/** Shortest distance between the segments a–b and c–d. */
export function segmentDistance (a: Point, b: Point, c: Point, d: Point): number {
  if (segmentsIntersect(a, b, c, d)) return 0
  return Math.min(distToSegment(a, c, d), distToSegment(b, c, d), distToSegment(c, a, b), distToSegment(d, a, b))
}

/** Shortest distance between the segment a–b and a polyline. */
export function polylineDistance (a: Point, b: Point, line: readonly Point[]): number {
  if (line.length === 1) return distToSegment(line[0], a, b)
  let best = Number.POSITIVE_INFINITY
  for (let i = 1; i < line.length; i++) {
    best = Math.min(best, segmentDistance(a, b, line[i - 1], line[i]))
    if (best === 0) break
  }
  return best
}

export function rectCorners (r: Rect): Point[] {
  return [[r.x, r.y], [r.x + r.w, r.y], [r.x + r.w, r.y + r.h], [r.x, r.y + r.h]]
}

export function pointInRect (p: Point, r: Rect): boolean {
  return p[0] >= r.x && p[0] <= r.x + r.w && p[1] >= r.y && p[1] <= r.y + r.h
}

export function rectsIntersect (a: Rect, b: Rect): boolean {
  return a.x <= b.x + b.w && a.x + a.w >= b.x && a.y <= b.y + b.h && a.y + a.h >= b.y
}

export function rectContains (outer: Rect, inner: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w && inner.y + inner.h <= outer.y + outer.h
}

/** The smallest rectangle around the given ones; null for none. */
export function unionRects (rects: Iterable<Rect | null>): Rect | null {
  let x0 = Number.POSITIVE_INFINITY
  let y0 = Number.POSITIVE_INFINITY
  let x1 = Number.NEGATIVE_INFINITY
  let y1 = Number.NEGATIVE_INFINITY
  for (const r of rects) {
    if (!r) continue
    x0 = Math.min(x0, r.x)
    y0 = Math.min(y0, r.y)
    x1 = Math.max(x1, r.x + r.w)
    y1 = Math.max(y1, r.y + r.h)
  }
  return x0 === Number.POSITIVE_INFINITY ? null : { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
}

/** The rectangle spanned by two corners. */
export function rectFrom (a: Point, b: Point): Rect {
  return { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), w: Math.abs(b[0] - a[0]), h: Math.abs(b[1] - a[1]) }
}

/** Distance between the segment a–b and the outline (or, `filled`, the area) of a rectangle. */
export function segmentToRect (a: Point, b: Point, r: Rect, filled: boolean): number {
  if (filled && (pointInRect(a, r) || pointInRect(b, r))) return 0
  const c = rectCorners(r)
  return polylineDistance(a, b, [...c, c[0]])
}

/** Points along an ellipse inscribed in `r` (for hit tests). */
export function ellipsePoints (r: Rect, n = 48): Point[] {
  const cx = r.x + r.w / 2
  const cy = r.y + r.h / 2
  const out: Point[] = []
  for (let i = 0; i <= n; i++) {
    const t = (i / n) * Math.PI * 2
    out.push([cx + Math.cos(t) * r.w / 2, cy + Math.sin(t) * r.h / 2])
  }
  return out
}

export function pointInEllipse (p: Point, r: Rect): boolean {
  const rx = r.w / 2
  const ry = r.h / 2
  if (rx <= 0 || ry <= 0) return false
  const dx = (p[0] - (r.x + rx)) / rx
  const dy = (p[1] - (r.y + ry)) / ry
  return dx * dx + dy * dy <= 1
}

export function center (r: Rect): Point {
  return [r.x + r.w / 2, r.y + r.h / 2]
}

/**
 * Where the ray from the centre of `r` towards `toward` leaves `r` (its outline, or the
 * ellipse inscribed in it): an arrow attached to an item starts or ends on the item's edge.
 */
export function exitPoint (r: Rect, toward: Point, ellipse = false, gap = 0): Point {
  const [cx, cy] = center(r)
  const dx = toward[0] - cx
  const dy = toward[1] - cy
  const len = Math.hypot(dx, dy)
  if (len === 0) return [cx, cy]
  let t: number
  if (ellipse) {
    const rx = Math.max(r.w / 2, 1e-6)
    const ry = Math.max(r.h / 2, 1e-6)
    t = 1 / Math.sqrt((dx * dx) / (rx * rx) + (dy * dy) / (ry * ry))
  } else {
    const tx = dx === 0 ? Number.POSITIVE_INFINITY : (r.w / 2) / Math.abs(dx)
    const ty = dy === 0 ? Number.POSITIVE_INFINITY : (r.h / 2) / Math.abs(dy)
    t = Math.min(tx, ty)
  }
  // Never past the point aimed at (it may lie inside the rectangle).
  t = Math.min(1, t + gap / len)
  return [cx + dx * t, cy + dy * t]
}
