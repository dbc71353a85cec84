// Board-wide stacking: notes, strokes, shapes and images interleave by their z keys, whatever
// layer they belong to (a stroke drawn over a note is above it; "bring to front" on an image
// puts it above the notes).
//
// Each layer renders its items in a container of its own, and no container forms a stacking
// context (no z-index, transform or opacity on them), so every item element takes part in the
// world's stacking context. This module gives each of them a CSS z-index from its rank in the
// board-wide order (z key, then id; see schema.ts zCompare). Every layer of ctx.layers that shows
// an item as one element (`element(id)`) and says when it changed (`onChange`) takes part.
// Areas (clusters, `areas: true`) are not stacked: with no z-index they stay under every stacked
// item, and frames sit under them (their container has z-index -1). Presence cursors and
// selection handles sit above every rank (styles.css).

import type { BoardContext } from './context'
import type { ItemLayer } from './items'
import { zCompare } from './schema'

/** A layer whose items take part in the board-wide stacking order: it shows each item as
 * one element. Areas (`layer.areas`) never take part. */
type Stacked = ItemLayer & { element: (id: string) => HTMLElement | SVGElement | null, onChange: (fn: () => void) => () => void }

function stacked (layer: ItemLayer): layer is Stacked {
  const l = layer as Partial<Stacked>
  return layer.areas !== true && typeof l.element === 'function' && typeof l.onChange === 'function'
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

  /** Gives every stacked element the z-index of its rank (only the ones that changed). */
  apply (): void {
    const items: Array<{ id: string, z: string, layer: Stacked }> = []
    for (const layer of this.layers) {
      if (!stacked(layer)) continue
      for (const id of layer.ids()) items.push({ id, z: layer.zOf(id) ?? '', layer })
    }
    items.sort(zCompare)
    items.forEach((item, i) => {
      const el = item.layer.element(item.id)
      if (!el || this.applied.get(el) === i + 1) return
      this.applied.set(el, i + 1)
      el.style.zIndex = String(i + 1)
    })
  }
}
