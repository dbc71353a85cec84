// What the whole board holds, across its layers of items (`ctx.layers`, see items.ts): the
// bounds of everything (zoom to fit, the minimap) and each item's box (the minimap).

import type { Rect } from './canvas'

/** What these functions read of a layer (an ItemLayer, see items.ts). */
export interface BoundedLayer {
  readonly name: string
  ids: () => string[]
  bounds: (ids: string[]) => Rect | null
  onChange?: (fn: () => void) => () => void
}

/** The union of two rectangles (either may be null). */
export function union (a: Rect | null, b: Rect | null): Rect | null {
  if (!a) return b
  if (!b) return a
  const x = Math.min(a.x, b.x)
  const y = Math.min(a.y, b.y)
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y }
}

/** Bounds of every item of every layer; null on an empty board. */
export function boardBounds (layers: readonly BoundedLayer[]): Rect | null {
  let out: Rect | null = null
  for (const layer of layers) {
    const ids = layer.ids()
    if (ids.length) out = union(out, finiteRect(layer.bounds(ids)))
  }
  return out
}

/** Every item's box, by layer (bottom layer first). */
export function itemBoxes (layers: readonly BoundedLayer[]): Array<{ layer: string, boxes: Rect[] }> {
  return layers.map((layer) => ({
    layer: layer.name,
    boxes: layer.ids().map((id) => finiteRect(layer.bounds([id]))).filter((r): r is Rect => r !== null)
  }))
}

function finiteRect (r: Rect | null): Rect | null {
  return r && [r.x, r.y, r.w, r.h].every(Number.isFinite) ? r : null
}
