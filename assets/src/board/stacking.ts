// Board-wide stacking: notes, strokes, shapes and images interleave by their z keys, whatever
// layer they belong to (a stroke drawn over a note is above it; "bring to front" on an image
// puts it above the notes).
//
// Each layer renders its items in a container of its own, and no container forms a stacking
// context (no z-index, transform or opacity on them), so every item element takes part in the
// world's stacking context. This module ranks every item in the board-wide order (z key, then
// id; see schema.ts zCompare), from 1 at the bottom. A layer that arranges its own elements
// (`restack`: the drawing layers, whose vector items share one <svg> per run of consecutive
// ranks, drawn.ts) is given the ranks; any other gives one element per item (`element(id)`),
// whose CSS z-index is set to its rank here. Every layer of ctx.layers that does either and says
// when it changed (`onChange`) takes part.
// Areas (clusters, frames: `areas: true`) are not stacked: with no z-index they stay under every
// stacked item, and frames sit under clusters (their container has z-index -1). Presence cursors
// and selection handles sit above every rank (styles.css).

import type { BoardContext } from './context'
import type { ItemLayer } from './items'
import { zCompare } from './schema'

/** A layer that places its elements itself, from the ranks of its items. */
interface Restacked { restack: (ranks: ReadonlyMap<string, number>) => void }
/** A layer that shows each item as one element. */
interface Elements { element: (id: string) => HTMLElement | SVGElement | null }

/** A layer whose items take part in the board-wide stacking order. Areas (`layer.areas`)
 * never take part. */
type Stacked = ItemLayer & { onChange: (fn: () => void) => () => void } & (Restacked | Elements)

function stacked (layer: ItemLayer): layer is Stacked {
  const l = layer as Partial<Restacked & Elements>
  return layer.areas !== true && typeof layer.onChange === 'function' &&
    (typeof l.restack === 'function' || typeof l.element === 'function')
}

export class Stacking {
  private readonly layers = new Set<ItemLayer>()
  private readonly offs: Array<() => void> = []
  private readonly applied = new WeakMap<Element, number>()
  private frame = 0

  constructor (private readonly ctx: BoardContext) {
    this.watch()
  }

  /** Takes part the layers of ctx.layers not seen yet (call after adding layers). */
  watch (): void {
    for (const layer of this.ctx.layers) {
      if (this.layers.has(layer) || !stacked(layer)) continue
      this.layers.add(layer)
      this.offs.push(layer.onChange(() => this.schedule()))
    }
    this.schedule()
  }

  destroy (): void {
    for (const off of this.offs) off()
    cancelAnimationFrame(this.frame)
  }

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.apply() })
  }

  /** Ranks every stacked item and hands the ranks to its layer (z-indexes change only where
   * they must). */
  apply (): void {
    const items: Array<{ id: string, z: string }> = []
    const layers: Stacked[] = []
    for (const layer of this.layers) {
      if (!stacked(layer) || !this.ctx.layers.includes(layer)) continue
      layers.push(layer)
      for (const id of layer.ids()) items.push({ id, z: layer.zOf(id) ?? '' })
    }
    items.sort(zCompare)
    const ranks = new Map<string, number>()
    items.forEach((item, i) => ranks.set(item.id, i + 1))
    for (const layer of layers) {
      if ('restack' in layer) {
        layer.restack(ranks)
        continue
      }
      for (const id of layer.ids()) {
        const el = layer.element(id)
        const rank = ranks.get(id)
        if (!el || rank === undefined || this.applied.get(el) === rank) continue
        this.applied.set(el, rank)
        el.style.zIndex = String(rank)
      }
    }
  }
}
