// Clustering suggestions, for facilitators (docs/clustering.md, "In the web UI"): a side panel
// asks the server to propose groups of the board's notes (POST /boards/{id}/suggestions/
// clusters, which writes nothing) and lists them: an editable title, the notes each holds (each
// can be removed from it), "Accepter" / "Rejeter", and "Tout accepter".
//
// Accepting makes a cluster (docs/board-schema.md, `clusters`) in free space to the right of
// everything on the board and moves the suggestion's notes into it in a tidy grid (their `xy`
// and `parent`): one transaction with the LOCAL origin, so one undo step ("Tout accepter" too:
// one step for every cluster it makes). Notes already in a cluster are only suggested when the
// facilitator ticks "Inclure les notes déjà dans un groupe"; the panel says which cluster such a
// note is in, and accepting moves it into the new cluster (it leaves the old one, which stays).
// Nothing of the suggestions is shared: they live in this panel until accepted or rejected.

import { api, type ClusterSuggestions } from '../api'
import { announce, append, h } from '../dom'
import { t } from '../i18n'
import { errorText } from '../pages/common'
import type { ClustersLayer } from './clusters'
import type { BoardContext } from './context'
import type { NotesLayer } from './notes'
import { itemBounds } from './operations'
import { SidePanel } from './panel'
import {
  CLUSTER, clustersOf, isCluster, isNote, makeCluster, newId, NOTE, notesOf, readNote, setXY, zBetween,
  type NoteColor
} from './schema'
import { LOCAL } from './sync'

/** The server's default `min_cluster_size`: fewer notes than this make no suggestion. */
const MIN_GROUP = 3
/** Layout of an accepted cluster (board units): gap between notes, padding, title bar. */
const GAP = 16
const PAD = 24
const HEADER = 64
/** Room between the board's content and new clusters, and between two new clusters. */
const SPACING = 120
const MAX_COLUMNS = 4
/** New clusters per row ("Tout accepter"). */
const PER_ROW = 3
/** Colours of accepted clusters, in turn (the default cluster colour first). */
const COLORS: NoteColor[] = ['blue', 'green', 'violet', 'orange', 'pink']
/** Characters of a note shown in the panel (the whole text is its tooltip). */
const SHOWN = 160

interface Proposal {
  key: number
  suggested: string
  title: string
  keywords: string[]
  /** The keywords are words the notes share (else: the group's most central word). */
  shared: boolean
  noteIds: string[]
}

export interface SuggestionsOptions {
  boardId: () => string
  /** Where the panel goes (the row beside the canvas). */
  host: HTMLElement
}

export class ClusterSuggestionsPanel {
  readonly panel: SidePanel
  private readonly hint: HTMLElement
  private readonly includeBox: HTMLInputElement
  private readonly includeLabel: HTMLElement
  private readonly includeHint: HTMLElement
  private readonly runButton: HTMLButtonElement
  private readonly status: HTMLElement
  private readonly error: HTMLElement
  private readonly acceptAllButton: HTMLButtonElement
  private readonly list: HTMLUListElement
  private proposals: Proposal[] = []
  /** The last answer (null before the first). */
  private result: ClusterSuggestions | null = null
  private loading = false
  private failure: unknown = null
  private nextKey = 1
  private frame = 0
  private readonly cleanups: Array<() => void> = []

  constructor (
    private readonly ctx: BoardContext,
    private readonly notes: NotesLayer,
    private readonly clusters: ClustersLayer,
    private readonly opts: SuggestionsOptions,
    group: SidePanel[]
  ) {
    this.panel = new SidePanel('suggestions-panel', 'suggest.panel', 'suggest', group)
    this.panel.toggle.dataset.tool = 'suggest'
    this.hint = h('p', { class: 'hint' })
    this.includeBox = h('input', { type: 'checkbox', id: 'suggest-include', 'aria-describedby': 'suggest-include-hint' })
    this.includeLabel = h('span', {})
    this.includeHint = h('p', { class: 'hint suggest-include-hint', id: 'suggest-include-hint' })
    this.runButton = h('button', { type: 'button', class: 'suggest-run' })
    this.runButton.addEventListener('click', () => { void this.run() })
    this.status = h('p', { class: 'suggest-status', role: 'status' })
    this.error = h('p', { class: 'suggest-error error', role: 'alert' })
    this.acceptAllButton = h('button', { type: 'button', class: 'secondary suggest-accept-all' })
    this.acceptAllButton.addEventListener('click', () => this.accept(this.proposals))
    this.list = h('ul', { class: 'suggestion-list' })
    // The suggestions first; asking again (with or without clustered notes) after them.
    this.panel.body.append(this.hint, this.status, this.error, this.acceptAllButton, this.list,
      h('div', { class: 'suggest-options' }, h('label', { class: 'checkbox' }, this.includeBox, this.includeLabel), this.includeHint, this.runButton))
    opts.host.append(this.panel.el)
    this.cleanups.push(this.panel.onToggle((open) => {
      if (open && this.result === null && !this.loading) void this.run()
    }))
    // Notes deleted or edited meanwhile: the lists follow (without touching what is typed).
    this.cleanups.push(notes.onChange(() => {
      if (!this.frame && this.proposals.length > 0) this.frame = requestAnimationFrame(() => { this.frame = 0; this.refreshNotes() })
    }))
    this.cleanups.push(clusters.onChange(() => {
      if (!this.frame && this.proposals.length > 0) this.frame = requestAnimationFrame(() => { this.frame = 0; this.refreshNotes() })
    }))
    this.relabel()
  }

  destroy (): void {
    cancelAnimationFrame(this.frame)
    for (const off of this.cleanups) off()
    this.panel.el.remove()
  }

  /** Language, role or read-only state changed. */
  relabel (): void {
    const facilitator = this.ctx.facilitator()
    this.panel.toggle.hidden = !facilitator
    if (!facilitator) this.panel.show(false)
    this.panel.relabel()
    this.hint.textContent = t('suggest.hint')
    this.includeLabel.textContent = t('suggest.includeClustered')
    this.includeHint.textContent = t('suggest.includeClusteredHint')
    this.acceptAllButton.textContent = t('suggest.acceptAll')
    this.list.setAttribute('aria-label', t('suggest.listLabel'))
    this.render()
  }

  // ---- asking the server ---------------------------------------------------------------

  async run (): Promise<void> {
    if (this.loading) return
    this.loading = true
    this.failure = null
    this.renderState()
    try {
      const result = await api.suggestClusters(this.opts.boardId(), { include_clustered: this.includeBox.checked })
      this.result = result
      this.proposals = result.clusters.map((c) => ({
        key: this.nextKey++,
        suggested: c.title,
        title: c.title,
        keywords: c.keywords,
        shared: c.keywords_shared !== false,
        noteIds: c.note_ids.filter((id) => this.notes.get(id) !== null)
      })).filter((p) => p.noteIds.length > 0)
      this.loading = false
      // (The status line is a live region: it says the outcome.)
      this.render()
    } catch (err) {
      this.failure = err
      this.loading = false
      this.renderState()
    }
  }

  /** What the last answer amounts to (count, or why there is nothing). */
  private summary (): string {
    const r = this.result
    if (!r) return ''
    if (r.clusters.length === 0) {
      return r.notes_considered < MIN_GROUP
        ? t('suggest.tooFew', { n: r.notes_considered, min: MIN_GROUP })
        : t('suggest.noShared')
    }
    if (this.proposals.length === 0) return t('suggest.allDone')
    const text = t('suggest.count', { n: this.proposals.length, notes: r.notes_considered })
    return r.unclustered.length > 0 ? `${text} ${t('suggest.left', { n: r.unclustered.length })}` : text
  }

  // ---- rendering -----------------------------------------------------------------------

  private renderState (): void {
    this.runButton.textContent = t(this.result === null ? 'suggest.run' : 'suggest.rerun')
    this.runButton.disabled = this.loading
    this.runButton.classList.toggle('secondary', this.result !== null)
    this.panel.body.setAttribute('aria-busy', String(this.loading))
    this.status.classList.toggle('working', this.loading)
    this.status.textContent = this.loading ? t('suggest.working') : this.summary()
    this.error.textContent = this.failure === null ? '' : errorText(this.failure)
    this.error.hidden = this.failure === null
    const editable = this.ctx.canEdit()
    this.acceptAllButton.hidden = this.loading || this.proposals.length < 2
    this.acceptAllButton.disabled = !editable
    this.list.hidden = this.loading
  }

  private render (): void {
    this.renderState()
    this.list.replaceChildren(...this.proposals.map((p) => this.renderProposal(p)))
  }

  private renderProposal (p: Proposal): HTMLLIElement {
    const inputId = `suggestion-${p.key}-title`
    const input = h('input', { type: 'text', id: inputId, class: 'suggestion-title', maxlength: 200, autocomplete: 'off', spellcheck: 'true' })
    input.value = p.title
    input.placeholder = p.suggested
    const li = h('li', { class: 'suggestion', 'data-suggestion': p.key })
    input.addEventListener('input', () => {
      p.title = input.value
      this.labelProposal(li, p)
    })
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.accept([p]) }
    })
    const notes = h('ul', { class: 'suggestion-notes' })
    for (const id of p.noteIds) notes.append(this.renderNote(p, id))
    const accept = h('button', { type: 'button', class: 'suggestion-accept' }, t('suggest.accept'))
    accept.addEventListener('click', () => this.accept([p]))
    const reject = h('button', { type: 'button', class: 'secondary suggestion-reject' }, t('suggest.reject'))
    reject.addEventListener('click', () => this.reject(p))
    append(li,
      h('div', { class: 'field' }, h('label', { for: inputId }, t('suggest.titleLabel')), input),
      p.keywords.length > 0 ? h('p', { class: 'hint suggestion-keywords' }, t(p.shared ? 'suggest.keywords' : 'suggest.central', { words: p.keywords.join(', ') })) : null,
      notes,
      h('p', { class: 'hint suggestion-empty', hidden: p.noteIds.length > 0 }, t('suggest.emptySuggestion')),
      h('div', { class: 'suggestion-actions' }, accept, reject))
    this.labelProposal(li, p)
    return li
  }

  private renderNote (p: Proposal, id: string): HTMLLIElement {
    const text = h('span', { class: 'suggestion-note-text' })
    const where = h('span', { class: 'suggestion-note-where' })
    const remove = h('button', { type: 'button', class: 'secondary suggestion-remove' }, t('suggest.remove'))
    remove.addEventListener('click', () => this.removeNote(p, id))
    const li = h('li', { class: 'suggestion-note', 'data-note-id': id }, h('span', { class: 'suggestion-note-body' }, text, where), remove)
    this.fillNote(li, id)
    return li
  }

  /** A note's text and its current cluster, from the board as it is now. */
  private fillNote (li: HTMLElement, id: string): void {
    const note = this.notes.get(id)
    const full = note?.text.trim() ?? ''
    const shown = full.length > SHOWN ? `${full.slice(0, SHOWN - 1)}…` : full
    const text = li.querySelector('.suggestion-note-text')
    const where = li.querySelector('.suggestion-note-where')
    const remove = li.querySelector('.suggestion-remove')
    if (text && text.textContent !== shown) text.textContent = shown
    li.title = full
    const parent = note?.parent ?? null
    const inCluster = parent !== null && this.clusters.has(parent) ? t('suggest.inCluster', { title: this.clusters.titleOf(parent) }) : ''
    if (where) { where.textContent = inCluster; (where as HTMLElement).hidden = inCluster === '' }
    remove?.setAttribute('aria-label', t('suggest.removeLabel', { text: shown.length > 60 ? `${shown.slice(0, 59)}…` : shown }))
  }

  private labelProposal (li: HTMLElement, p: Proposal): void {
    const title = this.titleOf(p)
    li.setAttribute('aria-label', `${title} (${t('cluster.notes', { n: p.noteIds.length })})`)
    li.querySelector('.suggestion-accept')?.setAttribute('aria-label', t('suggest.acceptLabel', { title }))
    li.querySelector('.suggestion-reject')?.setAttribute('aria-label', t('suggest.rejectLabel', { title }))
    const accept = li.querySelector<HTMLButtonElement>('.suggestion-accept')
    if (accept) accept.disabled = p.noteIds.length === 0 || !this.ctx.canEdit()
    li.querySelector('.suggestion-notes')?.setAttribute('aria-label', t('cluster.notes', { n: p.noteIds.length }))
  }

  /** Drops notes deleted since, refreshes texts and clusters named. */
  private refreshNotes (): void {
    for (const p of this.proposals) {
      const li = this.itemOf(p)
      const gone = p.noteIds.filter((id) => this.notes.get(id) === null)
      if (gone.length > 0) {
        p.noteIds = p.noteIds.filter((id) => !gone.includes(id))
        for (const id of gone) li?.querySelector(`.suggestion-note[data-note-id="${CSS.escape(id)}"]`)?.remove()
      }
      if (!li) continue
      for (const el of li.querySelectorAll<HTMLElement>('.suggestion-note')) this.fillNote(el, el.dataset.noteId ?? '')
      const empty = li.querySelector<HTMLElement>('.suggestion-empty')
      if (empty) empty.hidden = p.noteIds.length > 0
      this.labelProposal(li, p)
    }
  }

  private itemOf (p: Proposal): HTMLElement | null {
    return this.list.querySelector(`.suggestion[data-suggestion="${p.key}"]`)
  }

  private titleOf (p: Proposal): string {
    return p.title.replace(/\s+/g, ' ').trim() || p.suggested
  }

  // ---- decisions -----------------------------------------------------------------------

  private removeNote (p: Proposal, id: string): void {
    const li = this.itemOf(p)
    const row = li?.querySelector<HTMLElement>(`.suggestion-note[data-note-id="${CSS.escape(id)}"]`)
    // Focus goes to the next note's button, else the previous one's, else the title.
    const next = (row?.nextElementSibling ?? row?.previousElementSibling)?.querySelector<HTMLElement>('.suggestion-remove') ??
      li?.querySelector<HTMLElement>('.suggestion-title')
    p.noteIds = p.noteIds.filter((n) => n !== id)
    row?.remove()
    if (li) {
      const empty = li.querySelector<HTMLElement>('.suggestion-empty')
      if (empty) empty.hidden = p.noteIds.length > 0
      this.labelProposal(li, p)
    }
    next?.focus()
    announce(t('suggest.removed', { title: this.titleOf(p) }))
  }

  private reject (p: Proposal): void {
    const focus = this.neighbourOf([p])
    this.proposals = this.proposals.filter((x) => x !== p)
    this.itemOf(p)?.remove()
    this.renderState()
    this.refocus(focus)
    announce(t('suggest.rejected', { title: this.titleOf(p) }))
  }

  /**
   * Makes one cluster per proposal, with its notes in a grid, to the right of the board's
   * content: one transaction, one undo step.
   */
  accept (chosen: Proposal[]): void {
    if (!this.ctx.canEdit()) {
      announce(t('board.readOnlyAnnounce'))
      return
    }
    const doc = this.ctx.doc
    const notesMap = notesOf(doc)
    const clustersMap = clustersOf(doc)
    const plans = chosen.map((p) => ({
      p,
      ids: p.noteIds.filter((id) => isNote(notesMap.get(id)) && !this.ctx.lockedForMe(id))
    })).filter((x) => x.ids.length > 0)
    if (plans.length === 0) return
    const focus = this.neighbourOf(plans.map((x) => x.p))
    const bounds = itemBounds(this.ctx)
    const left = bounds ? bounds.x + bounds.w + SPACING : 0
    let x = left
    let y = bounds ? bounds.y : 0
    let rowHeight = 0
    let z: string | null = null
    for (const c of clustersMap.values()) {
      const cz = isCluster(c) ? c.get(CLUSTER.z) : null
      if (typeof cz === 'string' && (z === null || cz > z)) z = cz
    }
    let colorAt = clustersMap.size
    const made: Array<{ id: string, title: string, n: number, rect: { x: number, y: number, w: number, h: number } }> = []
    this.ctx.undo.stopCapturing()
    doc.transact(() => {
      plans.forEach(({ p, ids }, i) => {
        if (i > 0 && i % PER_ROW === 0) {
          x = left
          y += rowHeight + SPACING
          rowHeight = 0
        }
        const sizes = ids.map((id) => readNote(id, notesMap.get(id)!))
        const cellW = Math.max(...sizes.map((n) => n.w))
        const cellH = Math.max(...sizes.map((n) => n.h))
        const cols = Math.min(MAX_COLUMNS, Math.ceil(Math.sqrt(ids.length)))
        const rows = Math.ceil(ids.length / cols)
        const rect = {
          x,
          y,
          w: PAD * 2 + cols * cellW + (cols - 1) * GAP,
          h: HEADER + PAD * 2 + rows * cellH + (rows - 1) * GAP
        }
        const id = newId()
        z = zBetween(z, null)
        const title = this.titleOf(p)
        clustersMap.set(id, makeCluster({ ...rect, title, color: COLORS[colorAt++ % COLORS.length], z, createdBy: this.ctx.participantId }))
        ids.forEach((noteId, k) => {
          const note = notesMap.get(noteId)!
          const col = k % cols
          const row = Math.floor(k / cols)
          setXY(note, rect.x + PAD + col * (cellW + GAP), rect.y + HEADER + PAD + row * (cellH + GAP))
          note.set(NOTE.parent, id)
        })
        made.push({ id, title, n: ids.length, rect })
        x += rect.w + SPACING
        rowHeight = Math.max(rowHeight, rect.h)
      })
    }, LOCAL)
    this.ctx.undo.stopCapturing()
    const done = new Set(plans.map((x) => x.p))
    this.proposals = this.proposals.filter((p) => !done.has(p))
    for (const p of done) this.itemOf(p)?.remove()
    this.renderState()
    const x0 = Math.min(...made.map((m) => m.rect.x))
    const y0 = Math.min(...made.map((m) => m.rect.y))
    const x1 = Math.max(...made.map((m) => m.rect.x + m.rect.w))
    const y1 = Math.max(...made.map((m) => m.rect.y + m.rect.h))
    this.ctx.canvas.reveal({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, 64)
    this.refocus(focus)
    announce(made.length === 1
      ? t('suggest.accepted', { title: made[0].title, n: made[0].n })
      : t('suggest.acceptedAll', { n: made.length }))
  }

  /** The proposal to focus once `gone` leave the list: the next one, else the previous. */
  private neighbourOf (gone: Proposal[]): Proposal | null {
    const leaving = new Set(gone)
    const at = this.proposals.findIndex((p) => leaving.has(p))
    if (at < 0) return null
    const after = this.proposals.slice(at).find((p) => !leaving.has(p))
    const before = this.proposals.slice(0, at).reverse().find((p) => !leaving.has(p))
    return after ?? before ?? null
  }

  private refocus (p: Proposal | null): void {
    const target = p ? this.itemOf(p)?.querySelector<HTMLElement>('.suggestion-title') : this.runButton
    target?.focus({ preventScroll: false })
  }
}
