// Sticky notes on the canvas: rendering from the shared document, and what one does to a note:
// create (double click / double tap / N), select, drag, resize, edit the text together
// (Y.Text), colour, dot votes; keyboard and screen-reader access. The layer implements the
// ItemLayer contract (items.ts), so selecting, moving, deleting, duplicating, copying and
// restacking notes together with other items happen in operations.ts and clipboard.ts.

import * as Y from 'yjs'
import { announce, h } from '../dom'
import { colorLabel, t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import type { ClipItem, ItemLayer } from './items'
import { boardTopZ, itemBounds, settle, startDrag } from './operations'
import {
  clusterTitle, clustersOf, DEFAULT_NOTE_SIZE, isCluster, isNote, makeNote, MAX_NOTE_SIZE, MIN_NOTE_SIZE,
  newId, NOTE, NOTE_COLORS, noteText, notesOf, readNote, round, setWH, setXY, zBetween, zCompare, clamp,
  type NoteColor, type NoteData, type NoteMap
} from './schema'
import { LOCAL } from './sync'
import { bindTextarea } from './textbinding'
import type { Voting } from './voting'

const DOUBLE_TAP_MS = 400
/** Keyboard resizing, in board units (with Shift: five times more). */
const KEY_STEP = 16
/** The smallest and largest font of a note's text (board units), and how many times fitText
 * shrinks it. */
const MIN_FONT = 12
const MAX_FONT = 28
const FIT_ROUNDS = 3
/** Height of the dot-voting bar at the bottom of a note, board units. */
const VOTE_BAR = 44
/** Longest note text taken from the clipboard. */
const MAX_PASTED_TEXT = 10_000
/** Coordinates taken from the clipboard stay within this distance of the origin. */
const MAX_COORD = 10_000_000

interface View {
  el: HTMLElement
  text: HTMLElement
  votes: HTMLElement | null
  /** What the vote bar shows, to rebuild it only when that changes. */
  votesShown: string
  /** The font size set (--note-font). */
  font: string
  /** What the font was last fitted to (size, vote bar, text): see fitFont. */
  fit: string
  data: NoteData | null
}

interface Editing {
  id: string
  textarea: HTMLTextAreaElement
  unbind: () => void
}

export class NotesLayer implements ItemLayer {
  readonly name: string = 'notes'
  /**
   * While set, new notes (create, paste) go to this other notes layer instead, and editing its
   * notes goes through here: a silent phase's private notes (private.ts).
   */
  divert: NotesLayer | null = null
  readonly layer: HTMLElement
  private readonly notes: Y.Map<NoteMap>
  private readonly views = new Map<string, View>()
  private order: string[] = []
  private dirty = new Set<string>()
  private frame = 0
  /** Notes whose text was fitted by estimate since it was last measured (see fitText). */
  private readonly unmeasured = new Set<View>()
  private measureFrame = 0
  private editing: Editing | null = null
  private lastTap: { id: string, t: number } | null = null
  private readonly listeners = new Set<() => void>()
  private readonly hintId = 'note-keyboard-hint'
  private readonly ownsHint: boolean
  private readonly unobserve: () => void
  /** Colours of other participants' selections, by note id (from presence). */
  private remoteSelections = new Map<string, string>()
  /** This participant's dots left, as the vote bars last showed it. */
  private dotsLeft = -1

  constructor (private readonly ctx: BoardContext, private readonly voting: Voting) {
    this.notes = notesOf(ctx.doc)
    this.layer = h('div', { class: 'notes-layer' })
    ctx.canvas.world.append(this.layer)
    // One hint for every notes layer (private.ts adds a second one): the first layer keeps it.
    this.ownsHint = !ctx.canvas.el.querySelector(`#${this.hintId}`)
    if (this.ownsHint) ctx.canvas.el.append(h('p', { id: this.hintId, class: 'visually-hidden' }, t('note.keyboardHint')))
    const observer = (events: Array<Y.YEvent<any>>, tr: Y.Transaction): void => {
      for (const event of events) {
        if (event.target === this.notes) {
          for (const key of (event as Y.YMapEvent<NoteMap>).keysChanged) this.dirty.add(key)
        } else if (event.path.length > 0) {
          this.dirty.add(String(event.path[0]))
        }
      }
      // Our own changes render at once (a new note can be edited right away); others' on the
      // next frame, batched.
      if (tr.local) this.flush()
      else this.schedule()
    }
    this.notes.observeDeep(observer)
    this.unobserve = () => this.notes.unobserveDeep(observer)
    for (const id of this.notes.keys()) this.dirty.add(id)
    this.flush()
    ctx.selection.onChange(() => this.renderSelection())
    voting.onChange(() => this.renderAllVotes())
    this.layer.addEventListener('focusin', (e) => {
      const id = noteIdOf(e.target)
      if (id && !ctx.selection.has(id) && e.target === this.views.get(id)?.el) ctx.selection.set([id])
    })
    ctx.layers.push(this)
  }

  destroy (): void {
    this.stopEditing()
    this.unobserve()
    cancelAnimationFrame(this.frame)
    cancelAnimationFrame(this.measureFrame)
  }

  /** Called after the notes changed and were rendered (outline, clusters' counts, minimap). */
  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Every note, bottom to top. */
  all (): NoteData[] {
    return this.order.map((id) => this.views.get(id)?.data).filter((d): d is NoteData => !!d)
  }

  get (id: string): NoteData | null { return this.views.get(id)?.data ?? null }

  element (id: string): HTMLElement | null { return this.views.get(id)?.el ?? null }

  // ---- ItemLayer -------------------------------------------------------------------------

  has (id: string): boolean { return this.views.has(id) }

  ids (): string[] { return [...this.order] }

  bounds (ids?: string[]): Rect | null {
    const list = ids ? ids.map((id) => this.get(id)).filter((d): d is NoteData => !!d) : this.all()
    if (list.length === 0) return null
    const x0 = Math.min(...list.map((n) => n.x))
    const y0 = Math.min(...list.map((n) => n.y))
    const x1 = Math.max(...list.map((n) => n.x + n.w))
    const y1 = Math.max(...list.map((n) => n.y + n.h))
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
  }

  /** Notes that intersect a world rectangle (`contained`: lie wholly inside it). */
  inRect (r: Rect, contained = false): string[] {
    return this.all().filter((n) => contained
      ? n.x >= r.x && n.y >= r.y && n.x + n.w <= r.x + r.w && n.y + n.h <= r.y + r.h
      : n.x < r.x + r.w && n.x + n.w > r.x && n.y < r.y + r.h && n.y + n.h > r.y).map((n) => n.id)
  }

  moveBy (ids: string[], dx: number, dy: number): void {
    for (const id of ids) {
      const note = this.notes.get(id)
      // Read from the document, not the view: the caller's transaction may have moved it already.
      if (isNote(note)) {
        const d = readNote(id, note)
        setXY(note, d.x + dx, d.y + dy)
      }
    }
  }

  remove (ids: string[]): void {
    for (const id of ids) {
      if (this.editing?.id === id) this.stopEditing()
      this.notes.delete(id)
    }
  }

  copy (ids: string[]): ClipItem[] {
    const out: ClipItem[] = []
    for (const id of ids) {
      const note = this.notes.get(id)
      if (!isNote(note)) continue
      const d = readNote(id, note)
      out.push({
        layer: this.name,
        id,
        data: { x: d.x, y: d.y, w: d.w, h: d.h, color: d.color, text: d.text, z: d.z, parent: d.parent },
        text: d.text
      })
    }
    return out
  }

  /** New notes from copies (votes are not copied), on top of everything, in their old order. */
  paste (items: ClipItem[], dx: number, dy: number, ids?: Map<string, string>): string[] {
    if (this.divert) return this.divert.paste(items, dx, dy, ids)
    const copies = items
      .map((item) => ({ item, note: clipNote(item.data) }))
      .filter((c): c is { item: ClipItem, note: ClipNote } => c.note !== null)
      .sort((a, b) => zCompare({ z: a.note.z, id: a.item.id ?? '' }, { z: b.note.z, id: b.item.id ?? '' }))
    const created: string[] = []
    let z = boardTopZ(this.ctx)
    for (const { item, note: c } of copies) {
      const id = (item.id !== undefined ? ids?.get(item.id) : undefined) ?? newId()
      if (this.notes.has(id)) continue
      z = zBetween(z, null)
      const note = makeNote({ x: c.x + dx, y: c.y + dy, w: c.w, h: c.h, color: c.color ?? this.ctx.noteColor, text: c.text, z, createdBy: this.ctx.participantId })
      const parent = c.parent !== null ? ids?.get(c.parent) : undefined
      if (parent) note.set(NOTE.parent, parent)
      this.notes.set(id, note)
      created.push(id)
    }
    return created
  }

  zOf (id: string): string | null {
    const note = this.notes.get(id)
    if (!isNote(note)) return null
    const z = note.get(NOTE.z)
    return typeof z === 'string' ? z : ''
  }

  setZ (id: string, z: string): void {
    const note = this.notes.get(id)
    if (isNote(note)) note.set(NOTE.z, z)
  }

  // ---- rendering -------------------------------------------------------------------------

  /** Whether a note of the map is not shown by this layer (private.ts: one revealed already). */
  protected skips (_id: string): boolean { return false }

  /** Whether a facilitator hid this note (`hidden`, docs/board-schema.md): participants do not
   * get it at all (canvas, outline, Tab order); facilitators see it dimmed. */
  isHidden (id: string): boolean { return isHidden(this.notes.get(id)) }

  /** Renders every note again (who facilitates changed, or a kind needs its hidden notes shown). */
  refreshHidden (): void { this.invalidate(this.notes.keys()) }

  /** Renders these notes again (what `skips` answers for them changed). */
  protected invalidate (ids: Iterable<string>): void {
    for (const id of ids) this.dirty.add(id)
    this.schedule()
  }

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush() })
  }

  private flush (): void {
    cancelAnimationFrame(this.frame)
    this.frame = 0
    if (this.dirty.size === 0) return
    let reorder = false
    for (const id of this.dirty) {
      const note = this.notes.get(id)
      const view = this.views.get(id)
      if (!isNote(note) || this.skips(id) || (isHidden(note) && !this.ctx.facilitator())) {
        if (view) {
          if (this.editing?.id === id) this.stopEditing()
          view.el.remove()
          this.views.delete(id)
          reorder = true
        }
        continue
      }
      const data = readNote(id, note)
      const v = view ?? this.createView(id)
      if (!view) reorder = true
      if (v.data?.z !== data.z) reorder = true
      this.renderNote(v, data)
    }
    this.dirty.clear()
    if (reorder) this.reorder()
    // A change of this participant's dots changes what every vote bar offers.
    if (this.voting.open && this.voting.remaining() !== this.dotsLeft) this.renderAllVotes()
    this.fitText()
    this.ctx.selection.retain((id) => this.ctx.layers.some((layer) => layer.has(id)))
    for (const fn of this.listeners) fn()
  }

  private reorder (): void {
    const items = [...this.views.values()].map((v) => v.data).filter((d): d is NoteData => !!d)
    items.sort(zCompare)
    const next = items.map((d) => d.id)
    if (next.join() === this.order.join() && this.layer.childElementCount === next.length) return
    this.order = next
    // DOM order is stacking order (and Tab order). Moving the focused note would blur it.
    const focused = document.activeElement
    next.forEach((id, i) => {
      const el = this.views.get(id)?.el
      if (el && this.layer.children[i] !== el) this.layer.insertBefore(el, this.layer.children[i] ?? null)
    })
    if (focused instanceof HTMLElement && focused !== document.activeElement && this.layer.contains(focused)) focused.focus({ preventScroll: true })
  }

  private createView (id: string): View {
    const text = h('div', { class: 'note-text' })
    const resize = h('div', { class: 'note-resize', 'aria-hidden': 'true' })
    const el = h('div', {
      class: 'note',
      tabindex: '0',
      role: 'group',
      'data-note-id': id,
      'aria-describedby': this.hintId
    }, text, resize)
    el.setAttribute('aria-roledescription', t('note.role'))
    el.addEventListener('pointerdown', (e) => this.onPointerDown(id, e))
    resize.addEventListener('pointerdown', (e) => this.onResizeDown(id, e))
    const view: View = { el, text, votes: null, votesShown: '', font: '', fit: '', data: null }
    this.views.set(id, view)
    this.layer.append(el)
    return view
  }

  private renderNote (v: View, d: NoteData): void {
    const prev = v.data
    v.data = d
    const el = v.el
    if (!prev || prev.x !== d.x || prev.y !== d.y) el.style.transform = `translate(${d.x}px, ${d.y}px)`
    if (!prev || prev.w !== d.w) el.style.width = `${d.w}px`
    if (!prev || prev.h !== d.h) el.style.height = `${d.h}px`
    if (!prev || prev.color !== d.color) el.dataset.color = d.color
    if (!prev || prev.text !== d.text) {
      if (this.editing?.id !== d.id) v.text.textContent = d.text
    }
    el.classList.toggle('empty', d.text.trim() === '')
    el.classList.toggle('locked', d.locked)
    el.classList.toggle('moderated', this.isHidden(d.id))
    this.renderVotes(v)
    this.label(v)
  }

  /** The note's font size follows its text, its size and whether the vote bar takes room:
   * estimated here, then measured (fitText). */
  private fitFont (v: View): void {
    const d = v.data
    if (!d) return
    const bar = v.votes && !v.votes.hidden ? VOTE_BAR : 0
    const fit = `${d.w} ${d.h} ${bar} ${d.text}`
    if (v.fit === fit) return
    v.fit = fit
    const font = `${fitFontSize({ text: d.text, w: d.w, h: d.h - bar })}px`
    if (v.font !== font) {
      v.font = font
      v.el.style.setProperty('--note-font', font)
    }
    this.unmeasured.add(v)
  }

  /**
   * Makes the text of the notes just fitted fit them as laid out: fitFontSize only estimates,
   * so a note whose text overflows gets a smaller font, measured again, a few times (fonts
   * differ between devices); the text is clipped (`overflowing`) only
   * where it still overflows at the smallest size. (A clip on every note cost ~7 ms of the
   * browser's layerization at every frame of a pan or zoom over 2,000 notes: docs/benchmarks.md,
   * "Web UI".) Each round reads the layout once for all the notes in it.
   */
  private fitText (): void {
    cancelAnimationFrame(this.measureFrame)
    this.measureFrame = 0
    if (this.unmeasured.size === 0) return
    // Not laid out yet (the board is being built): on the next frame.
    if (!this.layer.isConnected) {
      this.measureFrame = requestAnimationFrame(() => this.fitText())
      return
    }
    // (A text being edited is hidden: measured once it shows again.)
    let views = [...this.unmeasured].filter((v) => v.data && this.views.get(v.data.id) === v && !v.text.hidden)
    for (const v of views) this.unmeasured.delete(v)
    for (let round = 0; views.length > 0; round++) {
      const room = views.map((v) => Math.min(v.text.clientHeight / Math.max(1, v.text.scrollHeight - 1), v.text.clientWidth / Math.max(1, v.text.scrollWidth - 1)))
      const again: View[] = []
      views.forEach((v, i) => {
        const size = parseFloat(v.font)
        const fits = room[i] >= 1
        if (fits || !(size > MIN_FONT) || round === FIT_ROUNDS) {
          v.el.classList.toggle('overflowing', !fits)
          return
        }
        // The text's height goes roughly with the square of its size (and by whole lines).
        v.font = `${Math.max(MIN_FONT, Math.min(size - 1, Math.floor(size * Math.sqrt(room[i]) * 0.94)))}px`
        v.el.style.setProperty('--note-font', v.font)
        again.push(v)
      })
      views = again
    }
  }

  /**
   * The vote bar: the note's total (unless hidden while voting), and while a vote is open, this
   * participant's dots with buttons to add and take back one.
   */
  private renderVotes (v: View): void {
    const d = v.data
    if (!d) return
    const voting = this.voting
    const mine = d.votesBy[this.ctx.participantId] ?? 0
    // Dots are changes to the note: none on a note locked against us (the server would revert them).
    const canVote = voting.canVote() && !this.ctx.lockedForMe(d.id)
    const total = voting.showTotals() ? d.votes : 0
    const left = canVote ? voting.remaining() : 0
    const shown = JSON.stringify([canVote, total, mine, left > 0, t('vote.add')])
    if (shown !== v.votesShown) {
      v.votesShown = shown
      if (!canVote && total === 0) {
        if (v.votes) v.votes.hidden = true
      } else {
        if (!v.votes) {
          v.votes = h('div', { class: 'note-votes' })
          v.el.insertBefore(v.votes, v.el.querySelector('.note-resize'))
        }
        v.votes.hidden = false
        v.votes.replaceChildren(...this.voteBar(d.id, total, mine, canVote, left))
      }
    }
    this.fitFont(v)
  }

  private voteBar (id: string, total: number, mine: number, canVote: boolean, left: number): Node[] {
    const parts: Node[] = []
    if (total > 0) {
      parts.push(h('span', { class: 'note-total', title: t('vote.total', { n: total }) },
        h('span', { class: 'dot', 'aria-hidden': 'true' }), String(total),
        h('span', { class: 'visually-hidden' }, ` ${t('vote.totalUnit', { n: total })}`)))
    }
    parts.push(h('span', { class: 'note-votes-spacer' }))
    if (!canVote) return parts
    const remove = h('button', { type: 'button', class: 'vote-button vote-remove', 'aria-label': t('vote.remove'), title: t('vote.remove') }, '−')
    remove.disabled = mine === 0
    remove.addEventListener('click', () => this.voting.remove(id))
    const mineEl = h('span', { class: 'my-dots', 'aria-hidden': 'true', title: t('vote.mine', { n: mine }) })
    for (let i = 0; i < Math.min(mine, 3); i++) mineEl.append(h('span', { class: 'dot mine' }))
    if (mine > 3) mineEl.append(`×${mine}`)
    const add = h('button', { type: 'button', class: 'vote-button vote-add', 'aria-label': t('vote.add'), title: t('vote.add') }, '+')
    // Still focusable and clickable when no dot is left: a click says why nothing happens.
    if (left === 0) add.setAttribute('aria-disabled', 'true')
    add.addEventListener('click', () => this.voting.add(id))
    parts.push(remove, mineEl, add)
    return parts
  }

  private renderAllVotes (): void {
    this.dotsLeft = this.voting.open ? this.voting.remaining() : -1
    for (const v of this.views.values()) {
      this.renderVotes(v)
      this.label(v)
    }
    this.updateHint()
    this.fitText()
  }

  private label (v: View): void {
    const d = v.data
    if (!d) return
    const text = d.text.trim()
    const parts = [text === '' ? t('note.empty') : excerpt(text, 140), colorLabel(d.color)]
    const cluster = d.parent !== null ? clustersOf(this.ctx.doc).get(d.parent) : undefined
    if (isCluster(cluster)) {
      const title = clusterTitle(cluster)?.toString().trim() || t('cluster.untitled')
      parts.push(t('note.inCluster', { title: excerpt(title, 60) }))
    }
    if (this.voting.showTotals() && d.votes > 0) parts.push(t('vote.total', { n: d.votes }))
    const mine = d.votesBy[this.ctx.participantId] ?? 0
    if (this.voting.open && mine > 0) parts.push(t('vote.mine', { n: mine }))
    if (d.locked) parts.push(t('lock.locked'))
    if (this.isHidden(d.id)) parts.push(t('note.hidden'))
    if (this.ctx.selection.has(d.id)) parts.push(t('note.selected'))
    const label = parts.join(', ')
    if (v.el.getAttribute('aria-label') !== label) v.el.setAttribute('aria-label', label)
  }

  /** Re-labels the given notes (all by default): a cluster's title changed. */
  refreshLabels (ids?: string[]): void {
    for (const id of ids ?? this.order) {
      const v = this.views.get(id)
      if (v) this.label(v)
    }
  }

  private updateHint (): void {
    if (!this.ownsHint) return
    const hint = document.getElementById(this.hintId)
    if (hint) hint.textContent = this.voting.canVote() ? `${t('note.keyboardHint')} ${t('note.voteHint')}` : t('note.keyboardHint')
  }

  /** Re-labels every note (language change). */
  relabel (): void {
    for (const v of this.views.values()) {
      v.el.setAttribute('aria-roledescription', t('note.role'))
      this.renderVotes(v)
      this.label(v)
    }
    this.updateHint()
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

  /** Shows which notes others have selected (colour ring), from presence. */
  showRemoteSelections (byNote: Map<string, string>): void {
    for (const id of this.remoteSelections.keys()) {
      if (!byNote.has(id)) {
        const el = this.views.get(id)?.el
        el?.classList.remove('remote-selected')
        el?.style.removeProperty('--remote-color')
      }
    }
    for (const [id, color] of byNote) {
      const el = this.views.get(id)?.el
      if (!el) continue
      el.classList.add('remote-selected')
      el.style.setProperty('--remote-color', color)
    }
    this.remoteSelections = byNote
  }

  // ---- changes ---------------------------------------------------------------------------

  private transact (fn: () => void): void {
    this.ctx.doc.transact(fn, LOCAL)
  }

  private refuse (): boolean {
    if (this.ctx.canEdit()) return false
    announce(t('board.readOnlyAnnounce'))
    return true
  }

  /** Creates a note centred on (x, y) and starts editing it. Returns its id. */
  create (x: number, y: number, { edit = true } = {}): string | null {
    if (this.divert) return this.divert.create(x, y, { edit })
    if (this.refuse()) return null
    // (Notes go to the `notes` map as far as phases go, private ones included.)
    const refusal = this.ctx.addRefusal('notes')
    if (refusal !== null) {
      this.ctx.tell(refusal)
      return null
    }
    const id = newId()
    const [w, hgt] = DEFAULT_NOTE_SIZE
    this.ctx.undo.stopCapturing()
    this.transact(() => {
      this.notes.set(id, makeNote({ x: x - w / 2, y: y - hgt / 2, z: zBetween(boardTopZ(this.ctx), null), color: this.ctx.noteColor, createdBy: this.ctx.participantId }))
      // A note made inside a cluster belongs to it.
      settle(this.ctx, [id])
    })
    this.ctx.undo.stopCapturing()
    this.ctx.selection.set([id])
    if (edit) this.startEditing(id)
    else this.element(id)?.focus({ preventScroll: true })
    announce(t('note.created'))
    return id
  }

  /**
   * Adds a note a board kind built (`makeNote` and keys of its own, e.g. a radar's signal)
   * where new notes go now: a silent phase's private document (`divert`), else the board. The
   * caller checks the read-only state and the phase first. Returns the layer that shows it.
   */
  insert (id: string, note: NoteMap): NotesLayer {
    if (this.divert) return this.divert.insert(id, note)
    this.ctx.undo.stopCapturing()
    this.transact(() => this.notes.set(id, note))
    this.ctx.undo.stopCapturing()
    return this
  }

  resizeSelected (dw: number, dh: number): boolean {
    const ids = this.ctx.selection.list().filter((id) => this.views.has(id))
    if (ids.length === 0 || this.refuse()) return false
    this.transact(() => {
      for (const id of ids) {
        const note = this.notes.get(id)
        const d = this.get(id)
        if (note && d) setWH(note, d.w + dw, d.h + dh)
      }
      settle(this.ctx, ids)
    })
    return true
  }

  /** Colours the selected notes (and remembers the colour for the next notes). Returns how many. */
  colorSelected (color: NoteColor): number {
    this.ctx.noteColor = color
    // The private notes of the selection (a silent phase) take it too.
    const diverted = this.divert?.colorSelected(color) ?? 0
    const ids = this.ctx.selection.list().filter((id) => this.views.has(id))
    if (ids.length === 0 || this.refuse()) return diverted
    this.ctx.undo.stopCapturing()
    this.transact(() => { for (const id of ids) this.notes.get(id)?.set(NOTE.color, color) })
    announce(t('note.colored', { color: colorLabel(color) }))
    return ids.length + diverted
  }

  // ---- editing ---------------------------------------------------------------------------

  isEditing (): boolean { return this.editing !== null }

  startEditing (id: string): void {
    if (this.divert?.has(id) === true && !this.views.has(id)) return this.divert.startEditing(id)
    if (this.refuse()) return
    if (this.ctx.lockedForMe(id)) {
      this.ctx.tell(t('lock.refused'))
      return
    }
    const view = this.views.get(id)
    const note = this.notes.get(id)
    const text = note ? noteText(note) : null
    if (!view || !text) return
    if (this.editing?.id === id) { this.editing.textarea.focus(); return }
    this.stopEditing()
    const textarea = h('textarea', { class: 'note-editor', 'aria-label': t('note.editLabel'), spellcheck: 'true' })
    view.text.hidden = true
    view.el.classList.add('editing')
    view.el.insertBefore(textarea, view.text)
    this.ctx.undo.stopCapturing()
    const unbind = bindTextarea(this.ctx.doc, text, textarea)
    this.editing = { id, textarea, unbind }
    textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault()
        this.stopEditing(true)
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
        // The board's undo (one's own changes, shared), not the textarea's.
        e.preventDefault()
        if (e.shiftKey) this.ctx.undo.redo()
        else this.ctx.undo.undo()
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'y') {
        e.preventDefault()
        this.ctx.undo.redo()
      }
      e.stopPropagation()
    })
    textarea.addEventListener('blur', () => { if (this.editing?.textarea === textarea) this.stopEditing() })
    textarea.addEventListener('pointerdown', (e) => e.stopPropagation())
    textarea.focus({ preventScroll: true })
    textarea.setSelectionRange(textarea.value.length, textarea.value.length)
    this.ctx.canvas.reveal({ x: view.data?.x ?? 0, y: view.data?.y ?? 0, w: view.data?.w ?? 0, h: view.data?.h ?? 0 })
  }

  stopEditing (refocus = false): void {
    const e = this.editing
    if (!e) return
    this.editing = null
    e.unbind()
    this.ctx.undo.stopCapturing()
    const view = this.views.get(e.id)
    e.textarea.remove()
    if (view) {
      view.el.classList.remove('editing')
      view.text.hidden = false
      view.text.textContent = view.data?.text ?? ''
      if (refocus) view.el.focus({ preventScroll: true })
      this.unmeasured.add(view)
      this.fitText()
    }
  }

  // ---- pointer ---------------------------------------------------------------------------

  private onPointerDown (id: string, e: PointerEvent): void {
    if (this.editing?.id === id || (e.target as Element | null)?.closest?.('button')) return
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
    const note = this.notes.get(id)
    if (!d || !note) return
    this.ctx.selection.set([id])
    const sx = e.clientX
    const sy = e.clientY
    let frame = 0
    let next: [number, number] | null = null
    const apply = (): void => {
      frame = 0
      if (next) this.transact(() => setWH(note, next![0], next![1]))
      next = null
    }
    const finish = (): void => {
      cancelAnimationFrame(frame)
      apply()
      this.transact(() => settle(this.ctx, [id]))
      this.ctx.undo.stopCapturing()
    }
    this.ctx.undo.stopCapturing()
    if (this.ctx.canvas.claim(e, {
      move: (ev) => {
        const s = this.ctx.canvas.view.scale
        next = [clamp(d.w + (ev.clientX - sx) / s, MIN_NOTE_SIZE[0], MAX_NOTE_SIZE[0]), clamp(d.h + (ev.clientY - sy) / s, MIN_NOTE_SIZE[1], MAX_NOTE_SIZE[1])]
        if (!frame) frame = requestAnimationFrame(apply)
      },
      end: finish,
      cancel: finish
    })) e.preventDefault()
  }

  // ---- keyboard --------------------------------------------------------------------------

  /**
   * Notes' own keys on the board (outside text fields): Enter / F2 edit, N adds a note, Alt +
   * arrows resize, D / Shift+D add or take back a dot (while a vote is open). Returns true when handled. Moving,
   * deleting, duplicating and the rest are operations.ts (any item).
   */
  handleKey (e: KeyboardEvent): boolean {
    const focusedId = noteIdOf(e.target)
    const mod = e.ctrlKey || e.metaKey
    const key = e.key.toLowerCase()
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }
    if (e.key in arrows && e.altKey && !mod) {
      const step = e.shiftKey ? KEY_STEP * 5 : KEY_STEP
      const [dx, dy] = arrows[e.key]
      return this.resizeSelected(dx * step, dy * step)
    }
    if ((e.key === 'Enter' || e.key === 'F2') && focusedId) {
      this.startEditing(focusedId)
      return true
    }
    if (!mod && !e.altKey && key === 'd') {
      const selected = this.ctx.selection.list().filter((id) => this.views.has(id))
      const target = focusedId ?? (selected.length === 1 ? selected[0] : null)
      if (!target) return false
      if (e.shiftKey) this.voting.remove(target)
      else this.voting.add(target)
      return true
    }
    if (!mod && !e.altKey && key === 'n') {
      const [x, y] = this.ctx.canvas.center()
      this.create(x, y)
      return true
    }
    return false
  }

  /** Reveals a note and focuses it (the outline). */
  focus (id: string): void {
    const d = this.get(id)
    if (!d) return
    this.ctx.selection.set([id])
    this.ctx.canvas.reveal(itemBounds(this.ctx, [id]) ?? { x: d.x, y: d.y, w: d.w, h: d.h }, 64)
    this.element(id)?.focus({ preventScroll: true })
  }
}

interface ClipNote { x: number, y: number, w: number, h: number, color: NoteColor | null, text: string, z: string, parent: string | null }

/** Reads a note copied to the clipboard (from any board or program): null when unusable. */
function clipNote (data: unknown): ClipNote | null {
  if (!data || typeof data !== 'object') return null
  const d = data as Record<string, unknown>
  const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback)
  const coord = (v: unknown): number => round(clamp(num(v, 0), -MAX_COORD, MAX_COORD))
  return {
    x: coord(d.x),
    y: coord(d.y),
    w: clamp(num(d.w, DEFAULT_NOTE_SIZE[0]), MIN_NOTE_SIZE[0], MAX_NOTE_SIZE[0]),
    h: clamp(num(d.h, DEFAULT_NOTE_SIZE[1]), MIN_NOTE_SIZE[1], MAX_NOTE_SIZE[1]),
    color: (NOTE_COLORS as readonly unknown[]).includes(d.color) ? d.color as NoteColor : null,
    text: typeof d.text === 'string' ? d.text.slice(0, MAX_PASTED_TEXT) : '',
    z: typeof d.z === 'string' ? d.z : '',
    parent: typeof d.parent === 'string' ? d.parent : null
  }
}

/** A note moderated away (`hidden: true`). */
function isHidden (note: unknown): boolean {
  return note instanceof Y.Map && note.get('hidden') === true
}

export function noteIdOf (target: EventTarget | null): string | null {
  const el = (target as Element | null)?.closest?.('.note')
  return el instanceof HTMLElement ? el.dataset.noteId ?? null : null
}

function excerpt (text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/**
 * A font size (board units) that lets the text fill the note without overflowing: the largest at
 * which the text, wrapped word by word at about 0.58 em a character and 1.3 em a line, fits in
 * the note. An estimate: NotesLayer.fitText measures it. (Estimating from the text's area alone
 * overflowed 4 notes in 10 of the UI benchmark's board, whose words are short.)
 */
export function fitFontSize (d: { text: string, w: number, h: number }): number {
  const padding = 24
  const width = Math.max(1, d.w - padding)
  const height = Math.max(1, d.h - padding)
  const paragraphs = d.text.split('\n').map((p) => p.split(/\s+/).filter(Boolean).map((word) => word.length))
  // The longest word must fit on one line.
  const longest = Math.max(1, ...paragraphs.flat())
  const largest = Math.floor(clamp(width / (longest * 0.62), MIN_FONT, MAX_FONT))
  for (let size = largest; size > MIN_FONT; size--) {
    const perLine = Math.max(1, Math.floor(width / (size * 0.58)))
    let lines = 0
    for (const words of paragraphs) {
      lines++
      let used = 0
      for (const n of words) {
        if (used > 0 && used + 1 + n <= perLine) {
          used += 1 + n
        } else {
          // A new line (unless this is the paragraph's first word); a word longer than a line
          // is broken.
          const broken = Math.ceil(n / perLine) - 1
          lines += (used > 0 ? 1 : 0) + broken
          used = n - broken * perLine
        }
      }
    }
    if (lines * size * 1.3 <= height) return size
  }
  return MIN_FONT
}
