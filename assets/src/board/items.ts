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
  /** The item's id where it was copied: references between copied items (a note's cluster, an
   *  arrow's ends) follow it to the new item on paste (see `paste`'s `ids`). */
  id?: string
  data: unknown
  /** The item's text for the clipboard's text/plain fallback (a note's text), if it has one. */
  text?: string
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
  /**
   * Creates new items from copies (this layer's own), offset by (dx, dy); returns the new ids.
   * The data may come from another board or another program: read it defensively. `ids`, when
   * given, maps every copied item's `id` (all layers) to the id its copy gets: use
   * `ids.get(item.id)` as the new id and map references through it (a reference to an item
   * that was not copied stays as it was, or is dropped where that makes no sense).
   */
  paste: (items: ClipItem[], dx: number, dy: number, ids?: Map<string, string>) => string[]
  /** The items' z keys (see schema.ts zBetween), to bring to front or send to back. */
  zOf: (id: string) => string | null
  setZ: (id: string, z: string) => void
  /**
   * Optional: calls `fn` after the layer rendered a change of its items (added, removed, moved,
   * resized, restacked), when `bounds` and `zOf` already answer the new state. Whoever draws
   * from other layers' items subscribes here (arrows attached to items, board-wide stacking).
   * Returns the unsubscribe function.
   */
  onChange?: (fn: () => void) => () => void
  /**
   * Optional: whether this layer's items are areas that hold others (clusters, frames): box and
   * lasso selection pick them only when they lie wholly inside, so that selecting a few notes
   * in a cluster does not select the cluster.
   */
  readonly areas?: boolean
  /**
   * Optional: the element that draws item `id`, for what decorates items of every layer alike
   * (the padlock and label of a locked item: locks.ts).
   */
  element?: (id: string) => HTMLElement | SVGElement | null
  /**
   * Optional: ids of other items (any layer) that go along with these when they are moved,
   * copied, duplicated or cut (a cluster's notes). Not for delete: deleting a cluster keeps
   * its notes.
   */
  carried?: (ids: string[]) => string[]
  /**
   * Optional: called in the same transaction after items were moved, resized, created or
   * pasted (`ids`: all of them, every layer), to update what depends on positions (a note
   * dropped in a cluster joins it). Writes only what changes.
   */
  settle?: (ids: string[]) => void
}
