// Operations across every layer of items (items.ts, `ctx.layers`): box and lasso selection,
// dragging a selection of mixed items, nudging with the arrow keys, delete, duplicate, select
// all, stacking order (front, back, forward, backward) and the bounds of the whole board.
// Copy, cut and paste are in clipboard.ts, on top of copyItems / pasteItems here.
//
// Nothing here knows a layer's shared types: it goes through the ItemLayer methods, so layers
// added later (strokes, shapes, frames) take part without changes here.

import { announce } from '../dom'
import { t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import type { ClipItem, ItemLayer } from './items'
import { newId, round, zBetween, zCompare, zIsBottom } from './schema'
import { LOCAL } from './sync'

/** Screen pixels a press may wander before it becomes a drag. */
const DRAG_SLOP = 4
/** Arrow-key moves, in board units (with Shift: five times more). */
export const KEY_STEP = 16
/** Where duplicates land, relative to their originals. */
const DUPLICATE_OFFSET = 24

// ---- helpers over ctx.layers ---------------------------------------------------------------

export function layerOf (ctx: BoardContext, id: string): ItemLayer | null {
  return ctx.layers.find((layer) => layer.has(id)) ?? null
}

/** Groups ids by the layer that owns them, in the order of ctx.layers; unknown ids are dropped. */
export function byLayer (ctx: BoardContext, ids: Iterable<string>): Map<ItemLayer, string[]> {
  const out = new Map<ItemLayer, string[]>()
  for (const id of ids) {
    const layer = layerOf(ctx, id)
    if (!layer) continue
    const list = out.get(layer)
    if (list) list.push(id)
    else out.set(layer, [id])
  }
  return new Map(ctx.layers.filter((l) => out.has(l)).map((l) => [l, out.get(l) as string[]]))
}

/** `ids` and everything they carry along (a cluster's notes), transitively, without repeats. */
export function withCarried (ctx: BoardContext, ids: Iterable<string>): string[] {
  const seen = new Set(ids)
  let frontier = [...seen]
  while (frontier.length > 0) {
    const next: string[] = []
    for (const [layer, list] of byLayer(ctx, frontier)) {
      for (const id of layer.carried?.(list) ?? []) {
        if (!seen.has(id)) { seen.add(id); next.push(id) }
      }
    }
    frontier = next
  }
  return [...seen]
}

/** The highest z key on the board (every layer), or null on an empty board: new items go above. */
export function boardTopZ (ctx: BoardContext): string | null {
  let top: string | null = null
  for (const layer of ctx.layers) {
    for (const id of layer.ids()) {
      const z = layer.zOf(id)
      if (z && (top === null || z > top)) top = z
    }
  }
  return top
}

/**
 * The ids this participant may change: not those a facilitator locked (for facilitators, all).
 * Moving or deleting filters through here, so that what a selection carries along (a cluster's
 * notes, what lies in a frame) never includes a locked item: the server would revert the whole
 * update.
 */
export function changeable (ctx: BoardContext, ids: string[]): string[] {
  return ids.filter((id) => !ctx.lockedForMe(id))
}

/** Lets every layer update what depends on positions (cluster membership). Inside a transaction. */
export function settle (ctx: BoardContext, ids: string[]): void {
  if (ids.length === 0) return
  for (const layer of ctx.layers) layer.settle?.(ids)
}

/** Moves items of any layer by (dx, dy). Inside a transaction. */
export function moveItems (ctx: BoardContext, ids: string[], dx: number, dy: number): void {
  for (const [layer, list] of byLayer(ctx, ids)) layer.moveBy(list, dx, dy)
}

/** The union of the items' bounds (all items when `ids` is omitted); null when none. */
export function itemBounds (ctx: BoardContext, ids?: string[]): Rect | null {
  const rects: Rect[] = []
  if (ids) {
    for (const [layer, list] of byLayer(ctx, ids)) {
      const r = layer.bounds(list)
      if (r) rects.push(r)
    }
  } else {
    for (const layer of ctx.layers) {
      const r = layer.bounds(layer.ids())
      if (r) rects.push(r)
    }
  }
  return union(rects)
}

export function union (rects: Rect[]): Rect | null {
  if (rects.length === 0) return null
  const x0 = Math.min(...rects.map((r) => r.x))
  const y0 = Math.min(...rects.map((r) => r.y))
  const x1 = Math.max(...rects.map((r) => r.x + r.w))
  const y1 = Math.max(...rects.map((r) => r.y + r.h))
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
}

export function intersects (a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && a.x + a.w > b.x && a.y < b.y + b.h && a.y + a.h > b.y
}

/** Whether a point lies inside a polygon (even-odd rule). */
export function insidePolygon (x: number, y: number, polygon: Array<[number, number]>): boolean {
  let inside = false
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]
    const [xj, yj] = polygon[j]
    if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

/** Says "read-only" and returns true when this participant may not change the board. */
export function refuse (ctx: BoardContext): boolean {
  if (ctx.canEdit()) return false
  announce(t('board.readOnlyAnnounce'))
  return true
}

/** Plain copies of items of any layer (each layer's ClipItems). */
export function copyItems (ctx: BoardContext, ids: string[]): ClipItem[] {
  const out: ClipItem[] = []
  for (const [layer, list] of byLayer(ctx, ids)) out.push(...layer.copy(list))
  return out
}

/**
 * Creates copies of `items` offset by (dx, dy), in one transaction, and lets the layers settle.
 * Items of layers this board does not have are skipped. Returns the new ids and, for items that
 * carried their original id, the map from it to the new one.
 */
export function pasteItems (ctx: BoardContext, items: ClipItem[], dx: number, dy: number): { ids: string[], map: Map<string, string> } {
  // What the current phase does not let this participant add stays out (and they are told).
  const refusals = new Set<string>()
  items = items.filter((item) => {
    const why = ctx.addRefusal(item.layer)
    if (why !== null) refusals.add(why)
    return why === null
  })
  for (const why of refusals) ctx.tell(why)
  const map = new Map<string, string>()
  for (const item of items) if (typeof item.id === 'string' && !map.has(item.id)) map.set(item.id, newId())
  const created: string[] = []
  ctx.undo.stopCapturing()
  ctx.doc.transact(() => {
    for (const layer of ctx.layers) {
      const own = items.filter((item) => item.layer === layer.name)
      if (own.length > 0) created.push(...layer.paste(own, dx, dy, map))
    }
    settle(ctx, created)
  }, LOCAL)
  ctx.undo.stopCapturing()
  return { ids: created, map }
}

// ---- dragging a selection ------------------------------------------------------------------

type DragListener = (moving: string[] | null) => void
const dragListeners = new WeakMap<BoardContext, Set<DragListener>>()

/** Calls `fn` with the ids being dragged after each step of a drag, and with null when it ends. */
export function onDrag (ctx: BoardContext, fn: DragListener): () => void {
  let set = dragListeners.get(ctx)
  if (!set) { set = new Set(); dragListeners.set(ctx, set) }
  set.add(fn)
  return () => set?.delete(fn)
}

function emitDrag (ctx: BoardContext, moving: string[] | null): void {
  for (const fn of dragListeners.get(ctx) ?? []) fn(moving)
}

export interface DragOptions {
  /** The element pressed: gets the `dragging` class while it moves. */
  element?: HTMLElement | null
  /** The press ended without a drag (a tap: layers detect double taps here). */
  onTap?: () => void
}

/**
 * A press on item `id` (any layer): selects it (Shift / Ctrl / ⌘ toggle), and dragging moves
 * every selected item of every layer, with what they carry (a cluster's notes), one
 * transaction per frame and one undo step for the whole drag; on release the layers settle (a
 * note dropped in a cluster joins it). Returns whether the canvas gave us the pointer.
 */
export function startDrag (ctx: BoardContext, id: string, e: PointerEvent, options: DragOptions = {}): boolean {
  const canvas = ctx.canvas
  if (e.button !== 0 || canvas.spacePanning) return false
  const sel = ctx.selection
  if (e.shiftKey || e.ctrlKey || e.metaKey) sel.toggle(id)
  else if (!sel.has(id)) sel.set([id])
  const editable = ctx.canEdit()
  let movers = sel.has(id) ? changeable(ctx, withCarried(ctx, sel.list())) : []
  const sx = e.clientX
  const sy = e.clientY
  let moved = false
  // Offsets are rounded to 1/100 like stored coordinates, and applied as the difference from
  // what was applied so far: the items end exactly where the pointer says, however many frames.
  let target: [number, number] = [0, 0]
  let applied: [number, number] = [0, 0]
  let frame = 0
  let release = (): void => {}
  const apply = (): void => {
    frame = 0
    const dx = round(target[0] - applied[0])
    const dy = round(target[1] - applied[1])
    if (dx === 0 && dy === 0) return
    // A facilitator may lock an item while it is being dragged: it stays where it is now.
    movers = changeable(ctx, movers)
    ctx.doc.transact(() => moveItems(ctx, movers, dx, dy), LOCAL)
    applied = [applied[0] + dx, applied[1] + dy]
    emitDrag(ctx, movers)
  }
  const claimed = canvas.claim(e, {
    move: (ev) => {
      if (!editable || movers.length === 0) return
      if (!moved && Math.hypot(ev.clientX - sx, ev.clientY - sy) < DRAG_SLOP) return
      if (!moved) {
        moved = true
        release = holdUndoStep(ctx)
        options.element?.classList.add('dragging')
      }
      const s = canvas.view.scale
      target = [round((ev.clientX - sx) / s), round((ev.clientY - sy) / s)]
      if (!frame) frame = requestAnimationFrame(apply)
    },
    end: () => {
      cancelAnimationFrame(frame)
      options.element?.classList.remove('dragging')
      if (!moved) {
        options.onTap?.()
        return
      }
      apply()
      // Same undo step as the moves.
      ctx.doc.transact(() => settle(ctx, movers), LOCAL)
      emitDrag(ctx, null)
      release()
    },
    cancel: () => {
      cancelAnimationFrame(frame)
      options.element?.classList.remove('dragging')
      if (moved) {
        ctx.doc.transact(() => settle(ctx, movers), LOCAL)
        emitDrag(ctx, null)
        release()
      }
    }
  })
  if (claimed) e.preventDefault()
  return claimed
}

/**
 * Makes everything this participant changes until the returned function is called one undo
 * step: a drag may pause longer than the undo manager's capture timeout.
 */
function holdUndoStep (ctx: BoardContext): () => void {
  const undo = ctx.undo
  const timeout = undo.captureTimeout
  undo.stopCapturing()
  undo.captureTimeout = Number.POSITIVE_INFINITY
  let done = false
  return () => {
    if (done) return
    done = true
    undo.captureTimeout = timeout
    undo.stopCapturing()
  }
}

// ---- the operations ------------------------------------------------------------------------

export class ItemOps {
  constructor (private readonly ctx: BoardContext) {}

  /** Every item of every layer. */
  allIds (): string[] {
    return this.ctx.layers.flatMap((layer) => layer.ids())
  }

  /** The bounds of everything on the board (zoom to fit), or null for an empty board. */
  bounds (): Rect | null {
    return itemBounds(this.ctx)
  }

  /** Items picked by a selection box: intersecting it, or wholly inside for area layers. */
  inRect (r: Rect): string[] {
    return this.ctx.layers.flatMap((layer) => layer.inRect(r, layer.areas === true))
  }

  selectRect (r: Rect, additive: boolean, done: boolean): void {
    this.pick(this.inRect(r), additive, done)
  }

  /**
   * Items picked by a lasso (a closed polygon, board units): the centre of an item's bounds
   * lies inside it; area layers' items (clusters) must lie wholly inside it.
   */
  inLasso (points: Array<[number, number]>): string[] {
    if (points.length < 3) return []
    const xs = points.map((p) => p[0])
    const ys = points.map((p) => p[1])
    const box = { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) }
    const out: string[] = []
    for (const layer of this.ctx.layers) {
      for (const id of layer.inRect(box, layer.areas === true)) {
        const b = layer.bounds([id])
        if (!b) continue
        const corners: Array<[number, number]> = layer.areas === true
          ? [[b.x, b.y], [b.x + b.w, b.y], [b.x, b.y + b.h], [b.x + b.w, b.y + b.h]]
          : [[b.x + b.w / 2, b.y + b.h / 2]]
        if (corners.every(([x, y]) => insidePolygon(x, y, points))) out.push(id)
      }
    }
    return out
  }

  selectLasso (points: Array<[number, number]>, additive: boolean, done: boolean): void {
    this.pick(this.inLasso(points), additive, done)
  }

  private pick (ids: string[], additive: boolean, done: boolean): void {
    const sel = this.ctx.selection
    if (additive) sel.add(ids)
    else sel.set(ids)
    if (done && sel.size > 0) announce(t('selection.items', { n: sel.size }))
  }

  selectAll (): void {
    this.ctx.selection.set(this.allIds())
    announce(t('selection.items', { n: this.ctx.selection.size }))
  }

  /** The selected ids that still exist, in no particular order. */
  selected (): string[] {
    return this.ctx.selection.list().filter((id) => layerOf(this.ctx, id) !== null)
  }

  /** Moves the selection (and what it carries) by (dx, dy): the arrow keys. */
  nudge (dx: number, dy: number): void {
    const ids = changeable(this.ctx, withCarried(this.ctx, this.selected()))
    if (ids.length === 0 || refuse(this.ctx)) return
    this.ctx.doc.transact(() => {
      moveItems(this.ctx, ids, dx, dy)
      settle(this.ctx, ids)
    }, LOCAL)
    const b = itemBounds(this.ctx, this.selected())
    if (b) this.ctx.canvas.reveal(b)
  }

  /**
   * Deletes the selection. A cluster's notes stay (the cluster is dissolved) unless
   * `withContents`: then what the selection carries goes too. `quiet`: the caller announces.
   */
  deleteSelected ({ withContents = false, quiet = false } = {}): void {
    const chosen = this.selected()
    const ids = changeable(this.ctx, withContents ? withCarried(this.ctx, chosen) : chosen)
    if (ids.length === 0 || refuse(this.ctx)) return
    this.ctx.undo.stopCapturing()
    this.ctx.doc.transact(() => {
      for (const [layer, list] of byLayer(this.ctx, ids)) layer.remove(list)
    }, LOCAL)
    this.ctx.undo.stopCapturing()
    this.ctx.selection.clear()
    this.ctx.canvas.el.focus({ preventScroll: true })
    if (!quiet) announce(this.allNotes(ids) ? t('note.deleted', { n: ids.length }) : t('items.deleted', { n: ids.length }))
  }

  /** Copies of the selection (with what it carries) next to it; the copies become the selection. */
  duplicateSelected (): void {
    const chosen = this.selected()
    if (chosen.length === 0 || refuse(this.ctx)) return
    const ids = withCarried(this.ctx, chosen)
    const { ids: created, map } = pasteItems(this.ctx, copyItems(this.ctx, ids), DUPLICATE_OFFSET, DUPLICATE_OFFSET)
    if (created.length === 0) return
    const copies = chosen.map((id) => map.get(id)).filter((id): id is string => !!id && created.includes(id))
    this.ctx.selection.set(copies.length > 0 ? copies : created)
    announce(this.allNotes(ids) ? t('note.duplicated', { n: ids.length }) : t('items.duplicated', { n: ids.length }))
  }

  private allNotes (ids: string[]): boolean {
    return ids.every((id) => layerOf(this.ctx, id)?.name === 'notes')
  }

  // ---- stacking order ------------------------------------------------------------------
  // Front and back are board-wide: above (below) every item of every layer, so they hold
  // whether layers are drawn apart or interleaved by z. Forward and backward step past the
  // next item of the same layer that overlaps the selection (or the next one at all).

  private stacked (ids: string[]): Array<{ id: string, z: string, layer: ItemLayer }> {
    const out: Array<{ id: string, z: string, layer: ItemLayer }> = []
    for (const [layer, list] of byLayer(this.ctx, ids)) {
      for (const id of list) {
        const z = layer.zOf(id)
        if (z !== null) out.push({ id, z, layer })
      }
    }
    return out.sort(zCompare)
  }

  bringToFront (): void { this.restack('front') }
  sendToBack (): void { this.restack('back') }
  bringForward (): void { this.restack('forward') }
  sendBackward (): void { this.restack('backward') }

  private restack (how: 'front' | 'back' | 'forward' | 'backward'): void {
    const chosen = this.stacked(this.selected())
    if (chosen.length === 0 || refuse(this.ctx)) return
    const picked = new Set(chosen.map((c) => c.id))
    const writes: Array<[ItemLayer, string, string]> = []
    if (how === 'front' || how === 'back') {
      const others = this.stacked(this.allIds()).filter((c) => !picked.has(c.id))
      if (others.length > 0) {
        const keys = how === 'front'
          ? keysBetween(others[others.length - 1].z, null, chosen.length)
          : keysBetween(null, others[0].z, chosen.length)
        keys?.forEach((z, i) => writes.push([chosen[i].layer, chosen[i].id, z]))
      }
    } else {
      for (const layer of new Set(chosen.map((c) => c.layer))) {
        const mine = chosen.filter((c) => c.layer === layer)
        const keys = this.step(layer, mine, picked, how === 'forward' ? 1 : -1)
        keys?.forEach((z, i) => writes.push([layer, mine[i].id, z]))
      }
    }
    if (writes.length > 0) {
      this.ctx.undo.stopCapturing()
      this.ctx.doc.transact(() => { for (const [layer, id, z] of writes) layer.setZ(id, z) }, LOCAL)
      this.ctx.undo.stopCapturing()
    }
    announce(t(`items.${how}`))
  }

  /** New keys that put `mine` (sorted) just past the next item of `layer` in `direction`. */
  private step (layer: ItemLayer, mine: Array<{ id: string, z: string }>, picked: Set<string>, direction: 1 | -1): string[] | null {
    const order = this.stacked(layer.ids())
    const at = mine.map((m) => order.findIndex((o) => o.id === m.id))
    const edge = direction > 0 ? Math.max(...at) : Math.min(...at)
    const area = layer.bounds(mine.map((m) => m.id))
    const candidates: number[] = []
    for (let i = edge + direction; i >= 0 && i < order.length; i += direction) {
      if (!picked.has(order[i].id)) candidates.push(i)
    }
    if (candidates.length === 0) return null
    const overlapping = candidates.find((i) => {
      const b = layer.bounds([order[i].id])
      return area !== null && b !== null && intersects(area, b)
    })
    const past = overlapping ?? candidates[0]
    const pivot = order[past].z
    if (direction > 0) {
      const above = order.slice(past + 1).find((o) => o.z > pivot)
      return keysBetween(pivot, above?.z ?? null, mine.length)
    }
    const below = order.slice(0, past).reverse().find((o) => o.z < pivot)
    return keysBetween(below?.z ?? null, pivot, mine.length)
  }

  // ---- keyboard ------------------------------------------------------------------------

  /** Shortcuts that apply to any selection; returns true when handled. */
  handleKey (e: KeyboardEvent): boolean {
    const mod = e.ctrlKey || e.metaKey
    const key = e.key.toLowerCase()
    const sel = this.ctx.selection
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }
    if (e.key in arrows && sel.size > 0 && !mod && !e.altKey) {
      const step = e.shiftKey ? KEY_STEP * 5 : KEY_STEP
      const [dx, dy] = arrows[e.key]
      this.nudge(dx * step, dy * step)
      return true
    }
    if ((e.key === 'Delete' || e.key === 'Backspace') && sel.size > 0 && !mod) {
      this.deleteSelected()
      return true
    }
    if (e.key === 'Escape' && sel.size > 0) {
      sel.clear()
      this.ctx.canvas.el.focus({ preventScroll: true })
      return true
    }
    if (mod && !e.altKey && key === 'a') { this.selectAll(); return true }
    if (mod && !e.altKey && key === 'd') { this.duplicateSelected(); return true }
    const up = e.code === 'BracketRight' || e.key === ']' || e.key === '}'
    const down = e.code === 'BracketLeft' || e.key === '[' || e.key === '{'
    if (mod && (up || down)) {
      if (up) {
        if (e.shiftKey) this.bringToFront()
        else this.bringForward()
      } else if (e.shiftKey) {
        this.sendToBack()
      } else {
        this.sendBackward()
      }
      return true
    }
    return false
  }
}

/** `n` increasing keys strictly between `lo` and `hi` (null: open end); null when impossible. */
export function keysBetween (lo: string | null, hi: string | null, n: number): string[] | null {
  if (hi !== null && zIsBottom(hi)) return null
  if (lo !== null && hi !== null && lo >= hi) return null
  const keys: string[] = []
  let key = lo
  for (let i = 0; i < n; i++) {
    key = zBetween(key, hi)
    keys.push(key)
  }
  return keys
}
