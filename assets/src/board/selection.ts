// Which items this participant has selected (local only; shared with others through presence).

type Listener = () => void

export class Selection {
  private ids = new Set<string>()
  private listeners = new Set<Listener>()
  /** Which items may be selected at all (a participant does not select locked items). */
  private selectable: (id: string) => boolean = () => true

  has (id: string): boolean { return this.ids.has(id) }
  get size (): number { return this.ids.size }
  list (): string[] { return [...this.ids] }

  set (ids: Iterable<string>): void {
    const next = new Set([...ids].filter((id) => this.selectable(id)))
    if (next.size === this.ids.size && [...next].every((id) => this.ids.has(id))) return
    this.ids = next
    this.emit()
  }

  add (ids: Iterable<string>): void { this.set([...this.ids, ...ids]) }

  toggle (id: string): void {
    const next = new Set(this.ids)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    this.set(next)
  }

  clear (): void { this.set([]) }

  /** Limits what may be selected from now on, and drops what the selection holds beyond it. */
  setSelectable (fn: (id: string) => boolean): void {
    this.selectable = fn
    this.retain(fn)
  }

  /** Drops ids that no longer exist. */
  retain (exists: (id: string) => boolean): void {
    const kept = this.list().filter(exists)
    if (kept.length !== this.ids.size) this.set(kept)
  }

  onChange (fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private emit (): void {
    for (const fn of this.listeners) fn()
  }
}
