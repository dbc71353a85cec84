// Clusters: titled areas that group notes (docs/board-schema.md, `clusters`). A cluster is drawn
// under every note; its title bar is what one grabs (drag to move it with its notes, double tap
// or Enter to rename it together, Y.Text), its corner handle resizes it, and the rest of it
// lets gestures through to the board (pan, box selection, double tap to add a note inside).
//
// Membership is stored on the note (`parent`) and follows geometry: after anything moves, a note
// belongs to the topmost cluster that contains its centre (settle). Moving a cluster carries its
// notes in the same transaction; deleting a cluster keeps its notes unless asked otherwise.

import * as Y from 'yjs'
import { announce, h } from '../dom'
import { colorLabel, t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import type { ClipItem, ItemLayer } from './items'
import type { NotesLayer } from './notes'
import { itemBounds, layerOf, onDrag, refuse, settle, startDrag } from './operations'
import {
  CLUSTER, clamp, clusterTitle, clustersOf, DEFAULT_CLUSTER_COLOR, DEFAULT_CLUSTER_SIZE, isCluster, isNote,
  makeCluster, MAX_CLUSTER_SIZE, MIN_CLUSTER_SIZE, newId, NOTE, NOTE_COLORS, notesOf, readCluster, readNote,
  round, setClusterWH, setXY, zBetween, zCompare, type ClusterData, type ClusterMap, type NoteColor, type NoteMap
} from './schema'
import { LOCAL } from './sync'
import { bindTextarea } from './textbinding'
import type { Voting } from './voting'

const DOUBLE_TAP_MS = 400
/** Keyboard resizing, in board units (with Shift: five times more). */
const KEY_STEP = 16
/** Room left around grouped items, and for the title bar above them (board units). */
const PAD = 24
const HEADER = 64
/** Longest title taken from the clipboard. */
const MAX_PASTED_TITLE = 500
const MAX_COORD = 10_000_000

interface View {
  el: HTMLElement
  header: HTMLElement
  title: HTMLElement
  stats: HTMLElement
  data: ClusterData | null
  /** Member notes and their dots (dots: 0 while totals are hidden). */
  notes: number
  votes: number
}

interface Editing {
  id: string
  textarea: HTMLTextAreaElement
  unbind: () => void
}

export class ClustersLayer implements ItemLayer {
  readonly name = 'clusters'
  readonly areas = true
  readonly layer: HTMLElement
  private readonly clusters: Y.Map<ClusterMap>
  private readonly notesMap: Y.Map<NoteMap>
  private readonly views = new Map<string, View>()
  private order: string[] = []
  private readonly dirty = new Set<string>()
  private frame = 0
  private editing: Editing | null = null
  private lastTap: { id: string, t: number } | null = null
  private readonly listeners = new Set<() => void>()
  private readonly hintId = 'cluster-keyboard-hint'
  private readonly cleanups: Array<() => void> = []
  private dropTarget: string | null = null

  constructor (private readonly ctx: BoardContext, private readonly notes: NotesLayer, private readonly voting: Voting) {
    this.clusters = clustersOf(ctx.doc)
    this.notesMap = notesOf(ctx.doc)
    this.layer = h('div', { class: 'clusters-layer' })
    // Under the notes (and every other item: areas take no part in the board-wide stacking).
    ctx.canvas.world.insertBefore(this.layer, ctx.canvas.world.firstChild)
    ctx.canvas.el.append(h('p', { id: this.hintId, class: 'visually-hidden' }, t('cluster.keyboardHint')))
    const observer = (events: Array<Y.YEvent<any>>, tr: Y.Transaction): void => {
      for (const event of events) {
        if (event.target === this.clusters) {
          for (const key of (event as Y.YMapEvent<ClusterMap>).keysChanged) this.dirty.add(key)
        } else if (event.path.length > 0) {
          this.dirty.add(String(event.path[0]))
        }
      }
      if (tr.local) this.flush()
      else this.schedule()
    }
    this.clusters.observeDeep(observer)
    this.cleanups.push(() => this.clusters.unobserveDeep(observer))
    this.cleanups.push(notes.onChange(() => this.renderStats()))
    this.cleanups.push(voting.onChange(() => this.renderStats()))
    this.cleanups.push(ctx.selection.onChange(() => this.renderSelection()))
    this.cleanups.push(onDrag(ctx, (moving) => this.showDropTarget(moving)))
    this.layer.addEventListener('focusin', (e) => {
      const id = clusterIdOf(e.target)
      if (id && e.target === this.views.get(id)?.el && !ctx.selection.has(id)) ctx.selection.set([id])
    })
    for (const id of this.clusters.keys()) this.dirty.add(id)
    this.flush()
    ctx.layers.push(this)
  }

  destroy (): void {
    this.stopEditing()
    for (const off of this.cleanups) off()
    cancelAnimationFrame(this.frame)
    this.listeners.clear()
  }

  /** Called after clusters were added, removed, renamed, moved or restacked. */
  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Every cluster, bottom to top. */
  all (): ClusterData[] {
    return this.order.map((id) => this.views.get(id)?.data).filter((d): d is ClusterData => !!d)
  }

  get (id: string): ClusterData | null { return this.views.get(id)?.data ?? null }

  element (id: string): HTMLElement | null { return this.views.get(id)?.el ?? null }

  /** A cluster's title for people: its text, or "Sans titre". */
  titleOf (id: string): string {
    return this.get(id)?.title.trim() || t('cluster.untitled')
  }

  // ---- ItemLayer -------------------------------------------------------------------------

  has (id: string): boolean { return this.views.has(id) }

  ids (): string[] { return [...this.order] }

  inRect (r: Rect, contained = false): string[] {
    return this.all().filter((c) => contained
      ? c.x >= r.x && c.y >= r.y && c.x + c.w <= r.x + r.w && c.y + c.h <= r.y + r.h
      : c.x < r.x + r.w && c.x + c.w > r.x && c.y < r.y + r.h && c.y + c.h > r.y).map((c) => c.id)
  }

  bounds (ids: string[]): Rect | null {
    const list = ids.map((id) => this.get(id)).filter((d): d is ClusterData => !!d)
    if (list.length === 0) return null
    const x0 = Math.min(...list.map((c) => c.x))
    const y0 = Math.min(...list.map((c) => c.y))
    const x1 = Math.max(...list.map((c) => c.x + c.w))
    const y1 = Math.max(...list.map((c) => c.y + c.h))
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
  }

  moveBy (ids: string[], dx: number, dy: number): void {
    for (const id of ids) {
      const cluster = this.clusters.get(id)
      if (!isCluster(cluster)) continue
      // From the document: the caller's transaction may have moved it already.
      const d = readCluster(id, cluster)
      setXY(cluster, d.x + dx, d.y + dy)
    }
  }

  /** Dissolves clusters: their notes stay where they are, in no cluster. */
  remove (ids: string[]): void {
    const gone = new Set(ids.filter((id) => this.clusters.has(id)))
    if (gone.size === 0) return
    for (const [noteId, note] of this.notesMap.entries()) {
      const parent = isNote(note) ? note.get(NOTE.parent) : null
      // A locked note keeps its (now dangling) parent: read as none, and not ours to change.
      if (typeof parent === 'string' && gone.has(parent) && !this.ctx.lockedForMe(noteId)) note.set(NOTE.parent, null)
    }
    for (const id of gone) {
      if (this.editing?.id === id) this.stopEditing()
      this.clusters.delete(id)
    }
  }

  copy (ids: string[]): ClipItem[] {
    const out: ClipItem[] = []
    for (const id of ids) {
      const cluster = this.clusters.get(id)
      if (!isCluster(cluster)) continue
      const d = readCluster(id, cluster)
      out.push({ layer: this.name, id, data: { x: d.x, y: d.y, w: d.w, h: d.h, color: d.color, title: d.title, z: d.z } })
    }
    return out
  }

  paste (items: ClipItem[], dx: number, dy: number, ids?: Map<string, string>): string[] {
    const copies = items
      .map((item) => ({ item, c: clipCluster(item.data) }))
      .filter((x): x is { item: ClipItem, c: ClipCluster } => x.c !== null)
      .sort((a, b) => zCompare({ z: a.c.z, id: a.item.id ?? '' }, { z: b.c.z, id: b.item.id ?? '' }))
    const created: string[] = []
    let z = this.topZ()
    for (const { item, c } of copies) {
      const id = (item.id !== undefined ? ids?.get(item.id) : undefined) ?? newId()
      if (this.clusters.has(id)) continue
      z = zBetween(z, null)
      this.clusters.set(id, makeCluster({ x: c.x + dx, y: c.y + dy, w: c.w, h: c.h, color: c.color, title: c.title, z, createdBy: this.ctx.participantId }))
      created.push(id)
    }
    return created
  }

  zOf (id: string): string | null {
    const cluster = this.clusters.get(id)
    if (!isCluster(cluster)) return null
    const z = cluster.get(CLUSTER.z)
    return typeof z === 'string' ? z : ''
  }

  setZ (id: string, z: string): void {
    const cluster = this.clusters.get(id)
    if (isCluster(cluster)) cluster.set(CLUSTER.z, z)
  }

  /** A cluster's notes go wherever it goes (and are copied with it). */
  carried (ids: string[]): string[] {
    const chosen = new Set(ids)
    const out: string[] = []
    for (const [id, note] of this.notesMap.entries()) {
      const parent = isNote(note) ? note.get(NOTE.parent) : null
      if (typeof parent === 'string' && chosen.has(parent)) out.push(id)
    }
    return out
  }

  /**
   * Membership follows geometry: each moved note (every note when a cluster moved, was resized
   * or made) belongs to the topmost cluster containing its centre, or to none. Reads the
   * document, not the views: the caller's transaction has just written the new positions.
   */
  settle (ids: string[]): void {
    const clusterMoved = ids.some((id) => isCluster(this.clusters.get(id)))
    const noteIds = clusterMoved ? [...this.notesMap.keys()] : ids.filter((id) => isNote(this.notesMap.get(id)))
    if (noteIds.length === 0) return
    const areas: ClusterData[] = []
    for (const [id, cluster] of this.clusters.entries()) if (isCluster(cluster)) areas.push(readCluster(id, cluster))
    areas.sort(zCompare).reverse()
    const changed: Array<{ from: string | null, to: string | null }> = []
    for (const id of noteIds) {
      const note = this.notesMap.get(id)
      // A note a facilitator locked keeps its membership until a facilitator moves things.
      if (!isNote(note) || this.ctx.lockedForMe(id)) continue
      const d = readNote(id, note)
      const cx = d.x + d.w / 2
      const cy = d.y + d.h / 2
      const home = areas.find((c) => cx >= c.x && cx <= c.x + c.w && cy >= c.y && cy <= c.y + c.h)?.id ?? null
      if (d.parent !== home) {
        note.set(NOTE.parent, home)
        changed.push({ from: d.parent, to: home })
      }
    }
    // One note dropped in or out of a cluster (by pointer or keyboard): say so.
    if (changed.length === 1 && !clusterMoved) {
      const { to } = changed[0]
      const title = to ? readCluster(to, this.clusters.get(to) as ClusterMap).title.trim() || t('cluster.untitled') : ''
      announce(to ? t('cluster.joined', { title }) : t('cluster.left'))
    }
  }

  private topZ (): string | null {
    let top: string | null = null
    for (const id of this.order) {
      const z = this.zOf(id)
      if (z && (top === null || z > top)) top = z
    }
    return top
  }

  // ---- rendering -------------------------------------------------------------------------

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush() })
  }

  private flush (): void {
    cancelAnimationFrame(this.frame)
    this.frame = 0
    if (this.dirty.size === 0) return
    let reorder = false
    const renamed: string[] = []
    for (const id of this.dirty) {
      const cluster = this.clusters.get(id)
      const view = this.views.get(id)
      if (!isCluster(cluster)) {
        if (view) {
          if (this.editing?.id === id) this.stopEditing()
          view.el.remove()
          this.views.delete(id)
          reorder = true
        }
        continue
      }
      const data = readCluster(id, cluster)
      const v = view ?? this.createView(id)
      if (!view) reorder = true
      if (v.data?.z !== data.z) reorder = true
      if (v.data?.title !== data.title) renamed.push(id)
      this.render(v, data)
    }
    this.dirty.clear()
    if (reorder) this.reorder()
    this.ctx.selection.retain((id) => this.ctx.layers.some((layer) => layer.has(id)))
    if (renamed.length > 0) {
      // Notes say which cluster they are in.
      const named = new Set(renamed)
      this.notes.refreshLabels(this.notes.all().filter((n) => n.parent !== null && named.has(n.parent)).map((n) => n.id))
    }
    this.renderStats()
    for (const fn of this.listeners) fn()
  }

  private reorder (): void {
    const next = [...this.views.values()].map((v) => v.data).filter((d): d is ClusterData => !!d).sort(zCompare).map((d) => d.id)
    if (next.join() === this.order.join() && this.layer.childElementCount === next.length) return
    this.order = next
    const focused = document.activeElement
    next.forEach((id, i) => {
      const el = this.views.get(id)?.el
      if (el && this.layer.children[i] !== el) this.layer.insertBefore(el, this.layer.children[i] ?? null)
    })
    if (focused instanceof HTMLElement && focused !== document.activeElement && this.layer.contains(focused)) focused.focus({ preventScroll: true })
  }

  private createView (id: string): View {
    const title = h('div', { class: 'cluster-title' })
    const stats = h('div', { class: 'cluster-stats', 'aria-hidden': 'true' })
    const header = h('div', { class: 'cluster-header' }, title, stats)
    const resize = h('div', { class: 'cluster-resize', 'aria-hidden': 'true' })
    const el = h('div', {
      class: 'cluster',
      tabindex: '0',
      role: 'group',
      'data-cluster-id': id,
      'aria-describedby': this.hintId
    }, header, resize)
    el.setAttribute('aria-roledescription', t('cluster.role'))
    header.addEventListener('pointerdown', (e) => this.onPointerDown(id, e))
    resize.addEventListener('pointerdown', (e) => this.onResizeDown(id, e))
    const view: View = { el, header, title, stats, data: null, notes: 0, votes: 0 }
    this.views.set(id, view)
    this.layer.append(el)
    return view
  }

  private render (v: View, d: ClusterData): void {
    const prev = v.data
    v.data = d
    const el = v.el
    if (!prev || prev.x !== d.x || prev.y !== d.y) el.style.transform = `translate(${d.x}px, ${d.y}px)`
    if (!prev || prev.w !== d.w) el.style.width = `${d.w}px`
    if (!prev || prev.h !== d.h) el.style.height = `${d.h}px`
    if (!prev || prev.color !== d.color) el.dataset.color = d.color
    if (!prev || prev.title !== d.title) this.renderTitle(v)
    el.classList.toggle('locked', d.locked)
    this.label(v)
  }

  private renderTitle (v: View): void {
    const title = v.data?.title.trim() ?? ''
    v.title.classList.toggle('placeholder', title === '')
    v.title.textContent = title === '' ? t('cluster.untitled') : title
  }

  /** Each cluster's number of notes and their dots (unless hidden while voting). */
  private renderStats (): void {
    const counts = new Map<string, { notes: number, votes: number }>()
    for (const n of this.notes.all()) {
      if (n.parent === null || !this.views.has(n.parent)) continue
      const c = counts.get(n.parent) ?? { notes: 0, votes: 0 }
      c.notes++
      c.votes += n.votes
      counts.set(n.parent, c)
    }
    const totals = this.voting.showTotals()
    for (const [id, v] of this.views) {
      const c = counts.get(id) ?? { notes: 0, votes: 0 }
      const votes = totals ? c.votes : 0
      if (v.notes === c.notes && v.votes === votes && v.stats.childElementCount > 0) continue
      v.notes = c.notes
      v.votes = votes
      const parts: Node[] = [h('span', { class: 'cluster-count' }, t('cluster.notes', { n: c.notes }))]
      if (votes > 0) parts.push(h('span', { class: 'cluster-votes', title: t('vote.total', { n: votes }) }, h('span', { class: 'dot' }), String(votes)))
      v.stats.replaceChildren(...parts)
      this.label(v)
    }
  }

  private label (v: View): void {
    const d = v.data
    if (!d) return
    const details = [t('cluster.notes', { n: v.notes }), colorLabel(d.color)]
    if (v.votes > 0) details.push(t('vote.total', { n: v.votes }))
    if (d.locked) details.push(t('lock.locked'))
    if (this.ctx.selection.has(d.id)) details.push(t('cluster.selected'))
    const label = t('cluster.label', { title: d.title.trim() || t('cluster.untitled'), details: details.join(', ') })
    if (v.el.getAttribute('aria-label') !== label) v.el.setAttribute('aria-label', label)
  }

  private renderSelection (): void {
    for (const [id, v] of this.views) {
      const selected = this.ctx.selection.has(id)
      if (v.el.classList.contains('selected') !== selected) {
        v.el.classList.toggle('selected', selected)
        this.label(v)
      }
    }
  }

  /** While notes are dragged, the cluster they would join is highlighted. */
  private showDropTarget (moving: string[] | null): void {
    let target: string | null = null
    if (moving && !moving.some((id) => this.views.has(id))) {
      const dragged = moving.filter((id) => this.notes.has(id))
      const b = this.notes.bounds(dragged)
      if (b && dragged.length > 0) {
        const cx = b.x + b.w / 2
        const cy = b.y + b.h / 2
        target = [...this.all()].reverse().find((c) => cx >= c.x && cx <= c.x + c.w && cy >= c.y && cy <= c.y + c.h)?.id ?? null
      }
    }
    if (target === this.dropTarget) return
    if (this.dropTarget) this.views.get(this.dropTarget)?.el.classList.remove('drop-target')
    if (target) this.views.get(target)?.el.classList.add('drop-target')
    this.dropTarget = target
  }

  /** Language change. */
  relabel (): void {
    const hint = document.getElementById(this.hintId)
    if (hint) hint.textContent = t('cluster.keyboardHint')
    for (const v of this.views.values()) {
      v.el.setAttribute('aria-roledescription', t('cluster.role'))
      if (this.editing?.id !== v.data?.id) this.renderTitle(v)
      v.stats.replaceChildren()
    }
    this.renderStats()
  }

  // ---- changes ---------------------------------------------------------------------------

  private transact (fn: () => void): void {
    this.ctx.doc.transact(fn, LOCAL)
  }

  /**
   * A new cluster around the selected items (their notes join it), or an empty one at the
   * centre of the view when nothing (but clusters) is selected. Starts editing its title.
   */
  groupSelection (): string | null {
    if (refuse(this.ctx)) return null
    const refusal = this.ctx.addRefusal(this.name)
    if (refusal !== null) {
      this.ctx.tell(refusal)
      return null
    }
    const chosen = this.ctx.selection.list().filter((id) => !this.has(id) && layerOf(this.ctx, id) !== null)
    const b = itemBounds(this.ctx, chosen)
    const [cx, cy] = this.ctx.canvas.center()
    const rect = b
      ? { x: b.x - PAD, y: b.y - PAD - HEADER, w: b.w + PAD * 2, h: b.h + PAD * 2 + HEADER }
      : { x: cx - DEFAULT_CLUSTER_SIZE[0] / 2, y: cy - DEFAULT_CLUSTER_SIZE[1] / 2, w: DEFAULT_CLUSTER_SIZE[0], h: DEFAULT_CLUSTER_SIZE[1] }
    const id = newId()
    this.ctx.undo.stopCapturing()
    this.transact(() => {
      this.clusters.set(id, makeCluster({ ...rect, color: DEFAULT_CLUSTER_COLOR, z: zBetween(this.topZ(), null), createdBy: this.ctx.participantId }))
      settle(this.ctx, [id])
    })
    this.ctx.undo.stopCapturing()
    this.ctx.selection.set([id])
    const members = this.notes.all().filter((n) => n.parent === id).length
    announce(b ? t('cluster.grouped', { n: members }) : t('cluster.created'))
    this.startEditing(id)
    return id
  }

  /** Dissolves the selected clusters; their notes stay (and are selected instead). */
  ungroupSelected (): void {
    const ids = this.ctx.selection.list().filter((id) => this.has(id))
    if (ids.length === 0 || refuse(this.ctx)) return
    const members = this.carried(ids)
    this.ctx.undo.stopCapturing()
    this.transact(() => this.remove(ids))
    this.ctx.undo.stopCapturing()
    this.ctx.selection.set(members)
    announce(t('cluster.dissolved', { n: ids.length }))
  }

  colorSelected (color: NoteColor): number {
    const ids = this.ctx.selection.list().filter((id) => this.has(id))
    if (ids.length === 0 || !this.ctx.canEdit()) return 0
    this.ctx.undo.stopCapturing()
    this.transact(() => { for (const id of ids) this.clusters.get(id)?.set(CLUSTER.color, color) })
    return ids.length
  }

  resizeSelected (dw: number, dh: number): boolean {
    const ids = this.ctx.selection.list().filter((id) => this.has(id))
    if (ids.length === 0 || refuse(this.ctx)) return false
    this.transact(() => {
      for (const id of ids) {
        const cluster = this.clusters.get(id)
        const d = this.get(id)
        if (isCluster(cluster) && d) setClusterWH(cluster, d.w + dw, d.h + dh)
      }
      settle(this.ctx, ids)
    })
    return true
  }

  /** Reveals a cluster and focuses it (the outline). */
  focus (id: string): void {
    const d = this.get(id)
    if (!d) return
    this.ctx.selection.set([id])
    this.ctx.canvas.reveal({ x: d.x, y: d.y, w: d.w, h: d.h }, 64)
    this.element(id)?.focus({ preventScroll: true })
  }

  // ---- the title -------------------------------------------------------------------------

  isEditing (): boolean { return this.editing !== null }

  startEditing (id: string): void {
    if (refuse(this.ctx)) return
    if (this.ctx.lockedForMe(id)) {
      this.ctx.tell(t('lock.refused'))
      return
    }
    const view = this.views.get(id)
    const cluster = this.clusters.get(id)
    const text = isCluster(cluster) ? clusterTitle(cluster) : null
    if (!view || !text) return
    if (this.editing?.id === id) { this.editing.textarea.focus(); return }
    this.stopEditing()
    const textarea = h('textarea', { class: 'cluster-title-editor', rows: 1, 'aria-label': t('cluster.titleLabel'), placeholder: t('cluster.untitled'), spellcheck: 'true' })
    // A title is one line: line breaks typed or pasted become spaces (before the binding reads it).
    textarea.addEventListener('input', () => {
      if (!textarea.value.includes('\n')) return
      const caret = textarea.selectionStart
      textarea.value = textarea.value.replace(/\r?\n/g, ' ')
      textarea.setSelectionRange(caret, caret)
    })
    view.title.hidden = true
    view.el.classList.add('editing')
    view.header.insertBefore(textarea, view.title)
    this.ctx.undo.stopCapturing()
    const unbind = bindTextarea(this.ctx.doc, text, textarea)
    this.editing = { id, textarea, unbind }
    textarea.addEventListener('keydown', (e) => {
      const mod = e.ctrlKey || e.metaKey
      if (e.key === 'Escape' || e.key === 'Enter') {
        e.preventDefault()
        this.stopEditing(true)
      } else if (mod && e.key.toLowerCase() === 'z') {
        e.preventDefault()
        if (e.shiftKey) this.ctx.undo.redo()
        else this.ctx.undo.undo()
      } else if (mod && e.key.toLowerCase() === 'y') {
        e.preventDefault()
        this.ctx.undo.redo()
      }
      e.stopPropagation()
    })
    textarea.addEventListener('blur', () => { if (this.editing?.textarea === textarea) this.stopEditing() })
    textarea.addEventListener('pointerdown', (e) => e.stopPropagation())
    textarea.focus({ preventScroll: true })
    textarea.setSelectionRange(textarea.value.length, textarea.value.length)
    const d = view.data
    if (d) this.ctx.canvas.reveal({ x: d.x, y: d.y, w: Math.min(d.w, 480), h: HEADER })
  }

  stopEditing (refocus = false): void {
    const e = this.editing
    if (!e) return
    this.editing = null
    e.unbind()
    this.ctx.undo.stopCapturing()
    e.textarea.remove()
    const view = this.views.get(e.id)
    if (view) {
      view.el.classList.remove('editing')
      view.title.hidden = false
      this.renderTitle(view)
      if (refocus) view.el.focus({ preventScroll: true })
    }
  }

  // ---- pointer ---------------------------------------------------------------------------

  private onPointerDown (id: string, e: PointerEvent): void {
    if (e.target instanceof HTMLTextAreaElement) return
    const view = this.views.get(id)
    const claimed = startDrag(this.ctx, id, e, {
      element: view?.el,
      onTap: () => {
        const now = performance.now()
        if (this.lastTap?.id === id && now - this.lastTap.t < DOUBLE_TAP_MS) {
          this.lastTap = null
          if (this.ctx.canEdit()) this.startEditing(id)
        } else {
          this.lastTap = { id, t: now }
        }
      }
    })
    if (claimed) view?.el.focus({ preventScroll: true })
  }

  private onResizeDown (id: string, e: PointerEvent): void {
    if (e.button !== 0 || !this.ctx.canEdit() || this.ctx.lockedForMe(id)) return
    e.stopPropagation()
    const d = this.get(id)
    const cluster = this.clusters.get(id)
    if (!d || !isCluster(cluster)) return
    this.ctx.selection.set([id])
    const sx = e.clientX
    const sy = e.clientY
    let frame = 0
    let next: [number, number] | null = null
    const apply = (): void => {
      frame = 0
      if (next) this.transact(() => setClusterWH(cluster, next![0], next![1]))
      next = null
    }
    const finish = (): void => {
      cancelAnimationFrame(frame)
      apply()
      // Notes now inside join it, notes left outside leave it.
      this.transact(() => settle(this.ctx, [id]))
      this.ctx.undo.stopCapturing()
    }
    this.ctx.undo.stopCapturing()
    if (this.ctx.canvas.claim(e, {
      move: (ev) => {
        const s = this.ctx.canvas.view.scale
        next = [
          clamp(d.w + (ev.clientX - sx) / s, MIN_CLUSTER_SIZE[0], MAX_CLUSTER_SIZE[0]),
          clamp(d.h + (ev.clientY - sy) / s, MIN_CLUSTER_SIZE[1], MAX_CLUSTER_SIZE[1])
        ]
        if (!frame) frame = requestAnimationFrame(apply)
      },
      end: finish,
      cancel: finish
    })) e.preventDefault()
  }

  // ---- keyboard --------------------------------------------------------------------------

  /**
   * Clusters' own keys: Enter / F2 on a cluster renames it, Alt + arrows resize the selected
   * clusters, Ctrl+G groups the selection, Ctrl+Shift+G dissolves the selected clusters.
   */
  handleKey (e: KeyboardEvent): boolean {
    const mod = e.ctrlKey || e.metaKey
    const focusedId = clusterIdOf(e.target)
    if ((e.key === 'Enter' || e.key === 'F2') && focusedId && e.target === this.views.get(focusedId)?.el) {
      this.startEditing(focusedId)
      return true
    }
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }
    if (e.key in arrows && e.altKey && !mod && this.ctx.selection.list().some((id) => this.has(id))) {
      const step = e.shiftKey ? KEY_STEP * 5 : KEY_STEP
      const [dx, dy] = arrows[e.key]
      return this.resizeSelected(dx * step, dy * step)
    }
    if (mod && !e.altKey && e.key.toLowerCase() === 'g') {
      if (e.shiftKey) this.ungroupSelected()
      else this.groupSelection()
      return true
    }
    return false
  }
}

export function clusterIdOf (target: EventTarget | null): string | null {
  const el = (target as Element | null)?.closest?.('.cluster')
  return el instanceof HTMLElement ? el.dataset.clusterId ?? null : null
}

interface ClipCluster { x: number, y: number, w: number, h: number, color: NoteColor, title: string, z: string }

/** Reads a cluster copied to the clipboard (from any board or program): null when unusable. */
function clipCluster (data: unknown): ClipCluster | null {
  if (!data || typeof data !== 'object') return null
  const d = data as Record<string, unknown>
  const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback)
  return {
    x: round(clamp(num(d.x, 0), -MAX_COORD, MAX_COORD)),
    y: round(clamp(num(d.y, 0), -MAX_COORD, MAX_COORD)),
    w: clamp(num(d.w, DEFAULT_CLUSTER_SIZE[0]), MIN_CLUSTER_SIZE[0], MAX_CLUSTER_SIZE[0]),
    h: clamp(num(d.h, DEFAULT_CLUSTER_SIZE[1]), MIN_CLUSTER_SIZE[1], MAX_CLUSTER_SIZE[1]),
    color: (NOTE_COLORS as readonly unknown[]).includes(d.color) ? d.color as NoteColor : DEFAULT_CLUSTER_COLOR,
    title: typeof d.title === 'string' ? d.title.replace(/\s+/g, ' ').slice(0, MAX_PASTED_TITLE) : '',
    z: typeof d.z === 'string' ? d.z : ''
  }
}
