// The contract between the board's layers of items (notes, clusters, strokes, shapes, frames,
// images) and the operations that work across them: box and lasso selection, moving, deleting,
// duplicating, copy/paste, z-order, zoom to fit, the minimap and the outline.
//
// Every item id is a random UUID, unique across all the board's top-level maps, so the
// selection holds plain ids and each layer answers for its own. A layer registers itself in
// `ctx.layers` when it is built; cross-item operations iterate over `ctx.layers` and never
// reach into a layer's shared types themselves.
//
// Mutating methods write into the caller's transaction: callers wrap them in
// `ctx.doc.transact(fn, LOCAL)` so that one user action is one undo step and one update.

import type { Rect } from './canvas'

/** One item copied to the clipboard: its layer's name and a plain JSON description. */
export interface ClipItem {
  layer: string
  data: unknown
}

export interface ItemLayer {
  /** Stable name of the layer (the top-level map it owns: 'notes', 'clusters', 'strokes', ...). */
  readonly name: string
  /** Whether `id` is one of this layer's items. */
  has: (id: string) => boolean
  /** Ids of this layer's items, in stacking order (bottom first). */
  ids: () => string[]
  /** Ids of items that intersect `r` (`contained`: lie entirely inside it). World units. */
  inRect: (r: Rect, contained?: boolean) => string[]
  /** Bounding box of the given items of this layer (others ignored); null when none. */
  bounds: (ids: string[]) => Rect | null
  /** Moves the given items by (dx, dy). */
  moveBy: (ids: string[], dx: number, dy: number) => void
  /** Deletes the given items. */
  remove: (ids: string[]) => void
  /** Plain JSON copies of the given items (for copy/paste and duplicate). */
  copy: (ids: string[]) => ClipItem[]
  /** Creates new items from copies (this layer's own), offset by (dx, dy); returns the new ids. */
  paste: (items: ClipItem[], dx: number, dy: number) => string[]
  /** The items' z keys (see schema.ts zBetween), to bring to front or send to back. */
  zOf: (id: string) => string | null
  setZ: (id: string, z: string) => void
}
