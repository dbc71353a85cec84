// Silent writing (docs/board-schema.md, "Private documents and the reveal"): while the current
// phase of `meta.phases` says `private: true`, a participant who is not a facilitator writes new
// notes into their private document of the board (`/ws/{board_id}/mine`, same schema), which
// the server sends to nobody else: the others' notes are not hidden by this UI, they never reach
// it. A facilitator's reveal (`POST /api/v1/boards/{id}/reveal`) merges every private document
// into the board with the same note ids; from then on the board's copy is the one shown.
//
// The private notes are a second notes layer (notes.ts) bound to the private document, in
// `ctx.layers` with the others, so they are selected, moved, edited, restacked and deleted like
// any note; they are drawn with a dashed border and a "private" badge. The board's notes layer
// diverts new notes (double tap, N, the toolbar, paste, duplicate) to it during the phase.
//
// Everyone sees a banner during a silent phase; facilitators get the "Reveal the notes" button.

import * as Y from 'yjs'
import { api, ApiError, type Revealed } from '../api'
import { announce, h, svg } from '../dom'
import { t } from '../i18n'
import type { BoardContext } from './context'
import type { ClipItem } from './items'
import { NotesLayer, noteIdOf } from './notes'
import { isPrivatePhase, META, metaOf, notesOf, PHASE_PRIVATE, readPhaseId, readPhases, type NoteColor, type NoteMap, type Phase } from './schema'
import { BoardSync, LOCAL } from './sync'
import { Voting } from './voting'

const DESCRIPTION_ID = 'private-note-description'
const PRIVATE_SUFFIX = '/mine'
/** The private notes layer's name in ctx.layers (its copies say `notes`). */
const PRIVATE_LAYER = 'privateNotes'

/** An eye with a stroke through it: what others cannot see. */
function eyeOff (): SVGSVGElement {
  return svg('svg', {
    viewBox: '0 0 24 24', width: 16, height: 16, fill: 'none', stroke: 'currentColor', 'stroke-width': 2,
    'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false', class: 'icon'
  }, svg('path', { d: 'M3 3l18 18 M10.6 6.1A9.7 9.7 0 0 1 12 6c6.4 0 10 6 10 6a17 17 0 0 1-2.6 3.3 M6.6 6.6C3.8 8.3 2 12 2 12s3.6 6 10 6c1.9 0 3.5-.5 4.9-1.3 M9.9 9.9a3 3 0 0 0 4.2 4.2' }))
}

/**
 * The notes of this participant's private document. Notes whose id the board's document holds
 * (revealed already) are left to the board's layer, so nothing shows twice. Copies are labelled
 * as board notes, so that pasting them follows the phase like any new note.
 */
export class PrivateNotesLayer extends NotesLayer {
  override readonly name: string = PRIVATE_LAYER
  private readonly doc: Y.Doc
  private board: Y.Map<NoteMap> | null = null
  private closed = false
  private readonly cleanups: Array<() => void> = []

  constructor (ctx: BoardContext, board: Y.Map<NoteMap>, voting: Voting) {
    super(ctx, voting)
    this.doc = ctx.doc
    this.layer.classList.add('private-notes')
    if (!ctx.canvas.el.querySelector(`#${DESCRIPTION_ID}`)) {
      const description = h('p', { id: DESCRIPTION_ID, class: 'visually-hidden' }, t('silent.noteDescription'))
      ctx.canvas.el.append(description)
      this.cleanups.push(() => description.remove())
    }
    // Set after the base constructor's first render: from here on revealed notes are skipped.
    this.board = board
    const mine = notesOf(this.doc)
    const observer = (event: Y.YMapEvent<NoteMap>): void => {
      const ids = [...event.keysChanged].filter((id) => mine.has(id))
      if (ids.length === 0) return
      this.invalidate(ids)
      // A reveal: the author is told their notes are everyone's now.
      const revealed = ids.filter((id) => event.changes.keys.get(id)?.action === 'add').length
      if (revealed > 0 && !event.transaction.local) ctx.tell(t('silent.mineRevealed', { n: revealed }))
    }
    board.observe(observer)
    this.cleanups.push(() => board.unobserve(observer))
    this.invalidate([...mine.keys()].filter((id) => board.has(id)))
    this.cleanups.push(this.onChange(() => this.decorate()))
    this.decorate()
  }

  protected override skips (id: string): boolean {
    return this.board?.has(id) === true
  }

  /** Marks the notes as private: dashed border, badge, description for screen readers. */
  private decorate (): void {
    for (const id of this.ids()) {
      const el = this.element(id)
      if (!el || el.classList.contains('private')) continue
      el.classList.add('private')
      el.setAttribute('aria-describedby', `${el.getAttribute('aria-describedby') ?? ''} ${DESCRIPTION_ID}`.trim())
      el.append(h('span', { class: 'private-badge', 'aria-hidden': 'true' }, eyeOff(), h('span', { class: 'private-badge-text' }, t('silent.badge'))))
    }
  }

  override relabel (): void {
    super.relabel()
    const description = document.getElementById(DESCRIPTION_ID)
    if (description) description.textContent = t('silent.noteDescription')
    for (const el of this.layer.querySelectorAll('.private-badge-text')) el.textContent = t('silent.badge')
  }

  // The operations across layers write inside a transaction of the board's document: this
  // layer's writes go in one of its own document, with the UI's origin (its undo manager).

  override moveBy (ids: string[], dx: number, dy: number): void {
    this.doc.transact(() => super.moveBy(ids, dx, dy), LOCAL)
  }

  override remove (ids: string[]): void {
    this.doc.transact(() => super.remove(ids), LOCAL)
  }

  override setZ (id: string, z: string): void {
    this.doc.transact(() => super.setZ(id, z), LOCAL)
  }

  override paste (items: ClipItem[], dx: number, dy: number, ids?: Map<string, string>): string[] {
    let out: string[] = []
    this.doc.transact(() => { out = super.paste(items, dx, dy, ids) }, LOCAL)
    return out
  }

  override copy (ids: string[]): ClipItem[] {
    return super.copy(ids).map((item) => ({ ...item, layer: 'notes' }))
  }

  override ids (): string[] { return this.closed ? [] : super.ids() }
  override has (id: string): boolean { return !this.closed && super.has(id) }

  /** Leaves the board: out of ctx.layers, its elements gone. */
  close (ctx: BoardContext): void {
    if (this.closed) return
    this.destroy()
    this.closed = true
    for (const c of this.cleanups) c()
    const i = ctx.layers.indexOf(this)
    if (i >= 0) ctx.layers.splice(i, 1)
    this.layer.remove()
    ctx.selection.retain((id) => ctx.layers.some((layer) => layer.has(id)))
  }
}

type StackItem = Y.UndoManager['undoStack'][number]
const SEQ = 'atelier-seq'

/**
 * One undo history over the board's document and the private one: the board's undo manager
 * (the toolbar's buttons, Ctrl+Z, Ctrl+Y) takes back or redoes whichever change is the latest
 * of the two, and a new change in one forgets what the other could redo. Returns the undoing.
 */
function joinUndo (main: Y.UndoManager, other: Y.UndoManager): () => void {
  let seq = 0
  const top = (stack: StackItem[]): number => stack.length === 0 ? -1 : Number(stack[stack.length - 1].meta.get(SEQ) ?? 0)
  const stamp = (self: Y.UndoManager, peer: Y.UndoManager) => (e: { stackItem: StackItem, type: 'undo' | 'redo' }): void => {
    e.stackItem.meta.set(SEQ, ++seq)
    if (e.type === 'undo' && !self.undoing && !self.redoing) peer.clear(false, true)
  }
  const onMain = stamp(main, other)
  const onOther = stamp(other, main)
  // The toolbar listens to the board's manager for its buttons' state.
  const forward = (name: 'stack-item-added' | 'stack-item-popped') => (e: any): void => { main.emit(name, [e, main]) }
  const forwardAdded = forward('stack-item-added')
  const forwardPopped = forward('stack-item-popped')
  main.on('stack-item-added', onMain)
  other.on('stack-item-added', onOther)
  other.on('stack-item-added', forwardAdded)
  other.on('stack-item-popped', forwardPopped)
  const { undo, redo, canUndo, canRedo } = main
  main.undo = () => top(other.undoStack) > top(main.undoStack) ? other.undo() : undo.call(main)
  main.redo = () => top(other.redoStack) > top(main.redoStack) ? other.redo() : redo.call(main)
  main.canUndo = () => canUndo.call(main) || other.canUndo()
  main.canRedo = () => canRedo.call(main) || other.canRedo()
  return () => {
    main.off('stack-item-added', onMain)
    other.off('stack-item-added', onOther)
    other.off('stack-item-added', forwardAdded)
    other.off('stack-item-popped', forwardPopped)
    Object.assign(main, { undo, redo, canUndo, canRedo })
    main.emit('stack-cleared', [{ undoStackCleared: false, redoStackCleared: false }])
  }
}

export interface SilentWritingOptions {
  boardId: string
  token: string
  /** Name of the private document's offline copy, or null for none (guests keep nothing). */
  cache: string | null
  /** Whether this participant writes privately during a silent phase: may edit, does not facilitate. */
  writer: () => boolean
  facilitator: () => boolean
  /** Called after the private layer came (or went: null), for board-wide stacking and the outline. */
  layersChanged: (layer: PrivateNotesLayer | null) => void
}

interface Session {
  sync: BoardSync
  undo: Y.UndoManager
  voting: Voting
  layer: PrivateNotesLayer
  off: () => void
}

export class SilentWriting {
  readonly banner: HTMLElement
  private readonly text: HTMLElement
  private readonly state: HTMLElement
  private readonly result: HTMLElement
  private readonly revealButton: HTMLButtonElement
  private readonly meta: Y.Map<unknown>
  private session: Session | null = null
  private silent = false
  private revealing = false
  private readonly unobserve: () => void

  constructor (private readonly ctx: BoardContext, private readonly notes: NotesLayer, private readonly opts: SilentWritingOptions) {
    this.meta = metaOf(ctx.doc)
    this.text = h('span', { class: 'banner-text' })
    this.state = h('span', { class: 'silent-state' })
    this.result = h('span', { class: 'silent-result' })
    this.revealButton = h('button', { type: 'button', class: 'secondary silent-reveal' })
    this.revealButton.addEventListener('click', () => { void this.reveal() })
    this.banner = h('div', { class: 'banner silent-banner canvas-control', role: 'group' },
      eyeOff(), this.text, this.state, this.result, this.revealButton)
    this.banner.hidden = true
    const observer = (event: Y.YMapEvent<unknown>): void => {
      if (event.keysChanged.has(META.phases) || event.keysChanged.has(META.phase)) this.update()
    }
    this.meta.observe(observer)
    this.unobserve = () => this.meta.unobserve(observer)
    this.update()
  }

  /** The private notes layer, while this participant writes privately. */
  get layer (): PrivateNotesLayer | null { return this.session?.layer ?? null }

  /** Whether the current phase is silent. */
  isSilent (): boolean {
    const id = readPhaseId(this.meta)
    const phase = id === null ? undefined : readPhases(this.meta).find((p) => p.id === id)
    return phase !== undefined && isPrivatePhase(phase)
  }

  /** Reads the phase (and this participant's role) again: opens or closes the private document. */
  update (): void {
    const silent = this.isSilent()
    if (silent !== this.silent) {
      this.silent = silent
      if (!silent) this.result.textContent = ''
      if (silent) announce(t(this.opts.writer() ? 'silent.started' : 'silent.bannerFacilitator'))
      else announce(t('silent.ended'))
    }
    if (silent && this.opts.writer()) this.open()
    else this.close()
    this.render()
  }

  private open (): void {
    if (this.session) return
    const ctx = this.ctx
    const sync = new BoardSync({ boardId: `${this.opts.boardId}${PRIVATE_SUFFIX}`, token: this.opts.token, cache: this.opts.cache })
    const undo = new Y.UndoManager([notesOf(sync.doc)], { trackedOrigins: new Set([LOCAL]), captureTimeout: 600 })
    // The board's context, with the private document in place of the board's.
    const privateCtx = Object.create(ctx, {
      doc: { value: sync.doc },
      sync: { value: sync },
      undo: { value: undo },
      // What the phase lets participants add: private notes are notes.
      addRefusal: { value: (root: string) => ctx.addRefusal(root === PRIVATE_LAYER ? 'notes' : root) },
      noteColor: { get: () => ctx.noteColor, set: (c: NoteColor) => { ctx.noteColor = c } }
    }) as BoardContext
    // The private document holds no settings: no vote on private notes.
    const voting = new Voting(privateCtx, () => false)
    const layer = new PrivateNotesLayer(privateCtx, notesOf(ctx.doc), voting)
    this.notes.divert = layer
    const offSync = sync.on(() => this.renderState())
    const offUndo = joinUndo(ctx.undo, undo)
    const off = (): void => { offSync(); offUndo() }
    this.session = { sync, undo, voting, layer, off }
    this.opts.layersChanged(layer)
  }

  private close (): void {
    const s = this.session
    if (!s) return
    this.session = null
    if (this.notes.divert === s.layer) this.notes.divert = null
    s.off()
    s.layer.close(this.ctx)
    s.voting.destroy()
    s.undo.destroy()
    void s.sync.destroy()
    this.opts.layersChanged(null)
  }

  /**
   * Keys on a private note (Enter edits it, Alt + arrows resize it, N adds a note): the board's
   * notes layer handles its own. Returns true when handled.
   */
  handleKey (e: KeyboardEvent): boolean {
    const layer = this.layer
    if (!layer) return false
    const id = noteIdOf(e.target)
    if (id !== null ? layer.has(id) : e.altKey && this.ctx.selection.list().some((s) => layer.has(s))) return layer.handleKey(e)
    return false
  }

  private async reveal (): Promise<void> {
    if (this.revealing || !this.opts.facilitator()) return
    this.revealing = true
    this.render()
    let message: string
    try {
      const r: Revealed = await api.reveal(this.opts.boardId)
      message = r.notes === 0 && r.refused === 0
        ? t('silent.revealedNone')
        : t('silent.revealed', { n: r.notes, authors: t('silent.authors', { n: r.authors }) })
      if (r.refused > 0) message = `${message}. ${t('silent.refused', { n: r.refused })}`
    } catch (err) {
      message = err instanceof ApiError && err.status === 403 ? t('error.forbidden') : t('silent.revealFailed')
    }
    this.revealing = false
    this.result.textContent = message
    this.ctx.tell(message)
    this.render()
  }

  private renderState (): void {
    const s = this.session
    let state = ''
    if (s) {
      const offline = s.sync.connection !== 'connected'
      if (offline && s.sync.saved === 'pending') state = t('silent.state.offline')
      else if (s.sync.saved === 'pending') state = t('silent.state.pending')
      else if (s.sync.saved === 'saved') state = t('silent.state.saved')
    }
    this.state.textContent = state
    this.state.hidden = state === ''
  }

  /** The banner (language change, role change). */
  render (): void {
    this.banner.hidden = !this.silent
    const facilitator = this.opts.facilitator()
    const label = t(this.opts.writer() ? 'silent.banner' : 'silent.bannerFacilitator')
    this.text.textContent = label
    this.banner.setAttribute('aria-label', label)
    this.revealButton.hidden = !facilitator
    this.revealButton.textContent = t(this.revealing ? 'silent.revealing' : 'silent.reveal')
    this.revealButton.disabled = this.revealing
    this.result.hidden = this.result.textContent === ''
    this.session?.layer.relabel()
    this.renderState()
  }

  destroy (): void {
    this.unobserve()
    this.close()
    this.banner.remove()
  }
}

/**
 * The "Silent writing" checkbox of a phase in the facilitators' agenda (phases.ts): writes the
 * phase's `private` key, keeping the keys other clients wrote.
 */
export class PrivatePhaseOption {
  readonly el: HTMLElement
  private readonly box: HTMLInputElement
  private readonly text: HTMLElement
  private readonly hint: HTMLElement

  /** `write`: saves the phase's extra keys (everything but id, title, minutes, allow). */
  constructor (id: string, phase: () => Phase | undefined, write: (extra: Record<string, unknown>) => void) {
    const hintId = `phase-private-hint-${id}`
    this.box = h('input', { type: 'checkbox', class: 'agenda-private', 'aria-describedby': hintId })
    this.text = h('span', {})
    this.hint = h('span', { class: 'hint agenda-private-hint', id: hintId })
    this.el = h('div', { class: 'agenda-private-option' }, h('label', { class: 'checkbox' }, this.box, this.text), this.hint)
    this.box.addEventListener('change', () => {
      const p = phase()
      if (!p) return
      const extra = { ...p.extra }
      if (this.box.checked) extra[PHASE_PRIVATE] = true
      else delete extra[PHASE_PRIVATE]
      write(extra)
    })
  }

  update (phase: Phase, editable: boolean): void {
    this.box.checked = isPrivatePhase(phase)
    this.box.disabled = !editable
    this.text.textContent = t('silent.phaseOption')
    this.hint.textContent = t('silent.phaseOptionHint')
  }
}
