// Dot voting: each participant has a budget of dots (meta.votesPerParticipant) to place on notes
// while a vote is open (meta.votingOpen); a note's dots are in its `votes` map (participant id →
// their dots there). Facilitators open and close the vote, set the budget, may hide the totals
// while it is open (meta.votesHidden) and clear every vote. Viewers do not vote, and nobody but
// facilitators votes on a note a facilitator locked (a dot changes the note).
//
// The server enforces the same budget (docs/board-schema.md, "Dot voting"): dots on a note a
// facilitator hid do not count while it is hidden; this module counts the same way.

import * as Y from 'yjs'
import { announce, h } from '../dom'
import { t } from '../i18n'
import type { BoardContext } from './context'
import { icon } from './icons'
import {
  dotCount, isNote, MAX_VOTES_PER_PARTICIPANT, META, metaOf, NOTE, noteVotes, notesOf, readVoting,
  type NoteMap, type VotingSettings
} from './schema'
import { LOCAL } from './sync'

/** A note a facilitator hid (`hidden`, docs/board-schema.md): its dots do not count. */
const hiddenNote = (note: unknown): boolean => isNote(note) && note.get('hidden') === true

export class Voting {
  private readonly meta: Y.Map<unknown>
  private readonly notes: Y.Map<NoteMap>
  private readonly listeners = new Set<() => void>()
  private readonly unobserve: () => void
  settings: VotingSettings

  /** `isFacilitator`: whether this participant runs the vote (owner or facilitator of the project). */
  constructor (private readonly ctx: BoardContext, private readonly isFacilitator: () => boolean) {
    this.meta = metaOf(ctx.doc)
    this.notes = notesOf(ctx.doc)
    this.settings = readVoting(this.meta)
    const observer = (): void => {
      const next = readVoting(this.meta)
      if (JSON.stringify(next) === JSON.stringify(this.settings)) return
      this.settings = next
      for (const fn of this.listeners) fn()
    }
    this.meta.observe(observer)
    this.unobserve = () => this.meta.unobserve(observer)
  }

  destroy (): void {
    this.unobserve()
    this.listeners.clear()
  }

  /** Called when the settings change (open, budget, hidden); dots are notes' changes. */
  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  get facilitator (): boolean { return this.isFacilitator() }
  get open (): boolean { return this.settings.open }
  get budget (): number { return this.settings.budget }

  /** Whether totals are shown: always, except while an open vote hides them. */
  showTotals (): boolean {
    return !(this.settings.open && this.settings.hidden)
  }

  /** Whether this participant may place dots now. */
  canVote (): boolean {
    return this.settings.open && this.ctx.canEdit()
  }

  /** This participant's dots on one note. */
  mine (noteId: string): number {
    const note = this.notes.get(noteId)
    if (!isNote(note)) return 0
    const votes = note.get(NOTE.votes)
    return votes instanceof Y.Map ? dotCount(votes.get(this.ctx.participantId)) : 0
  }

  /**
   * This participant's dots that count against the budget: on every note a facilitator has not
   * hidden (the server counts the same; dots on a hidden note count again once it is shown).
   */
  used (): number {
    let n = 0
    for (const [id, note] of this.notes.entries()) if (!hiddenNote(note)) n += this.mine(id)
    return n
  }

  remaining (): number {
    return Math.max(0, this.settings.budget - this.used())
  }

  /** "3 points restants sur 5". */
  remainingText (): string {
    return t('vote.remaining', { n: this.remaining(), budget: this.settings.budget })
  }

  /** Places one of this participant's dots on a note. Returns whether it did. */
  add (noteId: string): boolean {
    if (!this.allowed(noteId)) return false
    const note = this.notes.get(noteId)
    if (!isNote(note)) return false
    // No dot on a note a facilitator hid (the server reverts it; participants do not see it).
    if (hiddenNote(note) && !this.isFacilitator()) return false
    if (this.remaining() <= 0) {
      announce(t('vote.none', { budget: this.settings.budget }))
      return false
    }
    const mine = this.mine(noteId)
    this.ctx.undo.stopCapturing()
    this.ctx.doc.transact(() => noteVotes(note).set(this.ctx.participantId, mine + 1), LOCAL)
    this.ctx.undo.stopCapturing()
    announce(t('vote.added', { remaining: this.remainingText() }))
    return true
  }

  /** Takes one of this participant's dots back from a note. Returns whether it did. */
  remove (noteId: string): boolean {
    if (!this.allowed(noteId)) return false
    const note = this.notes.get(noteId)
    const mine = this.mine(noteId)
    if (!isNote(note) || mine === 0) return false
    this.ctx.undo.stopCapturing()
    this.ctx.doc.transact(() => {
      const votes = noteVotes(note)
      if (mine > 1) votes.set(this.ctx.participantId, mine - 1)
      else votes.delete(this.ctx.participantId)
    }, LOCAL)
    this.ctx.undo.stopCapturing()
    announce(t('vote.removed', { remaining: this.remainingText() }))
    return true
  }

  private allowed (noteId: string): boolean {
    if (!this.ctx.canEdit()) {
      announce(t('board.readOnlyAnnounce'))
      return false
    }
    if (!this.settings.open) {
      announce(t('vote.notOpen'))
      return false
    }
    // A dot is a change to the note: not on one a facilitator locked (the server would revert it).
    if (this.ctx.lockedForMe(noteId)) {
      this.ctx.tell(t('lock.refusedVote'))
      return false
    }
    return true
  }

  // ---- facilitators ----------------------------------------------------------------------
  // The settings are not in the undo scope: a facilitator's Ctrl+Z never reopens a vote.

  private setMeta (key: string, value: unknown): void {
    if (!this.ctx.canEdit()) return
    this.ctx.doc.transact(() => this.meta.set(key, value), LOCAL)
  }

  setOpen (open: boolean): void {
    this.setMeta(META.votingOpen, open)
    announce(open ? t('vote.opened', { budget: this.settings.budget }) : t('vote.closed'))
  }

  setBudget (budget: number): void {
    if (!Number.isFinite(budget)) return
    this.setMeta(META.votesPerParticipant, Math.min(MAX_VOTES_PER_PARTICIPANT, Math.max(1, Math.round(budget))))
  }

  setHidden (hidden: boolean): void {
    this.setMeta(META.votesHidden, hidden)
  }

  /** Takes every dot off every note (undoable by this facilitator). */
  clearAll (): void {
    if (!this.ctx.canEdit()) return
    this.ctx.undo.stopCapturing()
    this.ctx.doc.transact(() => {
      for (const note of this.notes.values()) {
        const votes = isNote(note) ? note.get(NOTE.votes) : null
        if (votes instanceof Y.Map) for (const who of [...votes.keys()]) votes.delete(who)
      }
    }, LOCAL)
    this.ctx.undo.stopCapturing()
    announce(t('vote.cleared'))
  }
}

/**
 * The voting controls of the toolbar: while a vote is open, how many dots this participant has
 * left; for facilitators, a button that opens the voting panel (open / close the vote, budget,
 * hide totals, clear votes).
 */
export class VotingControls {
  readonly el: HTMLElement
  private readonly remaining: HTMLElement
  private readonly toggle: HTMLButtonElement
  private readonly panel: HTMLElement
  private openButton: HTMLButtonElement | null = null
  private budgetInput: HTMLInputElement | null = null
  private hiddenBox: HTMLInputElement | null = null
  private clearButton: HTMLButtonElement | null = null
  private shownRemaining = ''
  private readonly onOutside = (e: PointerEvent): void => {
    if (!this.panel.hidden && !this.el.contains(e.target as Node)) this.showPanel(false)
  }

  constructor (private readonly ctx: BoardContext, private readonly voting: Voting) {
    this.remaining = h('span', { class: 'vote-remaining', role: 'status' })
    this.toggle = h('button', { type: 'button', class: 'tool vote-toggle', 'aria-controls': 'vote-panel', 'aria-expanded': 'false', 'data-tool': 'vote' })
    this.panel = h('div', { class: 'vote-panel', id: 'vote-panel', role: 'dialog' })
    this.panel.hidden = true
    this.el = h('div', { class: 'tool-group vote-group' }, this.remaining, this.toggle, this.panel)
    this.toggle.addEventListener('click', () => this.showPanel(this.panel.hidden))
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault()
        e.stopPropagation()
        this.showPanel(false)
        this.toggle.focus()
      }
    })
    document.addEventListener('pointerdown', this.onOutside, true)
    voting.onChange(() => this.update())
    this.build()
  }

  destroy (): void {
    document.removeEventListener('pointerdown', this.onOutside, true)
  }

  private showPanel (show: boolean): void {
    this.panel.hidden = !show
    this.toggle.setAttribute('aria-expanded', String(show))
    if (show) this.panel.querySelector<HTMLElement>('button, input')?.focus()
  }

  /** (Re)builds the controls in the current language. */
  build (): void {
    this.toggle.replaceChildren(icon('vote'), h('span', { class: 'tool-label' }, t('vote.panel')))
    this.toggle.title = t('vote.panel')
    this.panel.setAttribute('aria-label', t('vote.panel'))
    this.openButton = h('button', { type: 'button', class: 'vote-open' })
    this.openButton.addEventListener('click', () => this.voting.setOpen(!this.voting.open))
    const budgetId = 'vote-budget'
    this.budgetInput = h('input', { id: budgetId, type: 'number', min: 1, max: MAX_VOTES_PER_PARTICIPANT, step: 1, inputmode: 'numeric' })
    this.budgetInput.addEventListener('change', () => this.voting.setBudget(Number(this.budgetInput?.value)))
    const minus = h('button', { type: 'button', class: 'secondary vote-step', 'aria-label': t('vote.budgetLess') }, '−')
    const plus = h('button', { type: 'button', class: 'secondary vote-step', 'aria-label': t('vote.budgetMore') }, '+')
    minus.addEventListener('click', () => this.voting.setBudget(this.voting.budget - 1))
    plus.addEventListener('click', () => this.voting.setBudget(this.voting.budget + 1))
    this.hiddenBox = h('input', { type: 'checkbox', id: 'vote-hidden' })
    this.hiddenBox.addEventListener('change', () => this.voting.setHidden(this.hiddenBox?.checked === true))
    this.clearButton = h('button', { type: 'button', class: 'secondary vote-clear' }, t('vote.clear'))
    this.clearButton.addEventListener('click', () => this.voting.clearAll())
    this.panel.replaceChildren(
      h('h2', { class: 'vote-panel-title' }, t('vote.panel')),
      h('p', { class: 'hint' }, t('vote.panelHint')),
      this.openButton,
      h('div', { class: 'field' },
        h('label', { for: budgetId }, t('vote.budget')),
        h('div', { class: 'vote-budget' }, minus, this.budgetInput, plus)),
      h('label', { class: 'checkbox' }, this.hiddenBox, t('vote.hide')),
      this.clearButton)
    this.shownRemaining = ''
    this.update()
  }

  /** Follows the settings, this participant's dots and the board's editability. */
  update (): void {
    const v = this.voting
    const editable = this.ctx.canEdit()
    this.toggle.hidden = !v.facilitator
    this.toggle.disabled = !editable
    if (!editable && !this.panel.hidden) this.showPanel(false)
    this.toggle.classList.toggle('vote-live', v.open)
    const text = v.open && editable ? v.remainingText() : ''
    if (text !== this.shownRemaining) {
      this.shownRemaining = text
      this.remaining.textContent = text
    }
    this.remaining.hidden = text === ''
    this.remaining.dataset.empty = String(v.open && v.remaining() === 0)
    this.el.hidden = !v.facilitator && text === ''
    if (this.openButton) this.openButton.textContent = v.open ? t('vote.stop') : t('vote.start')
    if (this.budgetInput && document.activeElement !== this.budgetInput) this.budgetInput.value = String(v.budget)
    if (this.hiddenBox) this.hiddenBox.checked = v.settings.hidden
  }
}
