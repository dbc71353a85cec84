// The agenda of a workshop (docs/board-schema.md, `meta.phases` and `meta.phase`): facilitators
// define its phases (a title, a duration, what participants may add during it), reorder and
// delete them, and move everyone from one phase to the next; the server keeps a version of the
// board at each change of phase (versions.ts lists them).
//
// - `Agenda`: the facilitators' actions, written to `meta` (the server reverts anyone else's).
// - `PhaseStrip`: what everyone sees over the board while a phase runs or the timer is set: the
//   phase, what one may add during it, the timer (timer.ts); facilitators get "next phase" there.
// - `AgendaPanel`: the facilitators' side panel to define and run the agenda and the timer.
//
// What a phase does not allow is refused by the UI before the server would revert it
// (facilitation.ts: `addRefusal`, used by every way of adding items).

import { announce, h } from '../dom'
import { lang, t, type MessageKey } from '../i18n'
import type { BoardContext } from './context'
import { ADD_KINDS, phaseTitle, type FacilitationRules } from './facilitation'
import { SidePanel } from './panel'
import { PrivatePhaseOption } from './private'
import { MAX_PHASE_MINUTES, MAX_PHASE_TITLE, META, metaOf, phaseJSON, timerJSON, type Phase } from './schema'
import { LOCAL } from './sync'
import { fresh, setButton, type SharedTimer, type TimerDisplay } from './timer'

const PHASE_TIMER_KEY = 'atelier.phaseTimer'

/** The facilitators' changes to the agenda and the current phase. */
export class Agenda {
  constructor (private readonly ctx: BoardContext, private readonly rules: FacilitationRules, private readonly timer: SharedTimer) {}

  get phases (): readonly Phase[] { return this.rules.phases }

  /** Whether moving to a phase with a duration starts the timer for it (this device's choice). */
  get startsTimer (): boolean {
    try { return localStorage.getItem(PHASE_TIMER_KEY) !== '0' } catch { return true }
  }

  set startsTimer (on: boolean) {
    try { localStorage.setItem(PHASE_TIMER_KEY, on ? '1' : '0') } catch { /* not kept */ }
  }

  private allowed (): boolean {
    return this.ctx.facilitator() && this.ctx.canEdit()
  }

  private save (list: Phase[]): void {
    if (!this.allowed()) return
    this.ctx.doc.transact(() => metaOf(this.ctx.doc).set(META.phases, list.map(phaseJSON)), LOCAL)
  }

  /** A new phase at the end ("Phase 3", no duration, anything allowed); returns its id. */
  add (): string | null {
    if (!this.allowed()) return null
    const taken = new Set(this.phases.map((p) => p.id))
    let id = ''
    do id = crypto.randomUUID().slice(0, 8); while (taken.has(id))
    this.save([...this.phases, { id, title: t('phase.untitled', { n: this.phases.length + 1 }), minutes: null, allow: null, extra: {} }])
    return id
  }

  update (id: string, patch: Partial<Pick<Phase, 'title' | 'minutes' | 'allow' | 'extra'>>): void {
    const list = this.phases.map((p) => (p.id === id ? { ...p, ...patch } : p))
    this.save(list)
  }

  move (id: string, delta: number): void {
    const list = [...this.phases]
    const i = list.findIndex((p) => p.id === id)
    const j = i + delta
    if (i < 0 || j < 0 || j >= list.length) return
    const [p] = list.splice(i, 1)
    list.splice(j, 0, p)
    this.save(list)
  }

  /** Deletes a phase; deleting the current one ends the agenda's limits (no phase). */
  remove (id: string): void {
    if (!this.allowed()) return
    const meta = metaOf(this.ctx.doc)
    this.ctx.doc.transact(() => {
      meta.set(META.phases, this.phases.filter((p) => p.id !== id).map(phaseJSON))
      if (this.rules.currentId === id) meta.delete(META.phase)
      if (this.rules.timer?.phase === id) meta.delete(META.timer)
    }, LOCAL)
  }

  /**
   * Moves everyone to phase `id` (null: no phase, nothing limited). The server keeps a version of
   * the board at this change. With a duration (and `startsTimer`), the timer starts for it; a
   * timer that belonged to the previous phase goes.
   */
  goTo (id: string | null): void {
    if (!this.allowed()) return
    const meta = metaOf(this.ctx.doc)
    const phase = id === null ? null : this.phases.find((p) => p.id === id) ?? null
    if (id !== null && !phase) return
    this.ctx.doc.transact(() => {
      if (phase) meta.set(META.phase, phase.id)
      else meta.delete(META.phase)
      const timer = this.rules.timer
      if (phase && phase.minutes !== null && this.startsTimer) meta.set(META.timer, timerJSON(fresh(phase.minutes * 60_000, phase.id)))
      else if (timer?.phase != null) meta.delete(META.timer)
    }, LOCAL)
  }

  next (): void {
    const current = this.rules.current()
    const next = this.phases[current ? current.index + 1 : 0]
    if (next) this.goTo(next.id)
  }

  previous (): void {
    const current = this.rules.current()
    if (current && current.index > 0) this.goTo(this.phases[current.index - 1].id)
  }

  /** Starts a timer of `minutes` (no phase of its own). */
  startTimer (minutes: number): void {
    if (!this.allowed() || !(minutes > 0)) return
    this.timer.start(Math.min(MAX_PHASE_MINUTES, minutes) * 60_000, null)
  }
}

/** "des notes et des groupes" (what a phase lets participants add), or null: anything. */
export function allowedList (phase: Phase): string | null {
  if (phase.allow === null) return null
  const allow = phase.allow
  const kinds = ADD_KINDS.filter((k) => k.roots.some((r) => allow.includes(r)))
  if (kinds.length === 0) return ''
  const words = kinds.map((k) => t(`${k.label}.what` as MessageKey))
  try {
    return new Intl.ListFormat(lang() === 'fr' ? 'fr' : 'en', { type: 'conjunction' }).format(words)
  } catch {
    return words.join(', ')
  }
}

/** What the current phase means for this participant, in one sentence (or '' for anything). */
function allowSentence (phase: Phase, facilitator: boolean): string {
  const list = allowedList(phase)
  if (list === null) return ''
  if (list === '') return t(facilitator ? 'phase.participantsAddNothing' : 'phase.youAddNothing')
  return t(facilitator ? 'phase.participantsMayAdd' : 'phase.youMayAdd', { list })
}

// ---- the strip over the board ------------------------------------------------------------------

/** The current phase and the timer, over the board, for everyone while either is set. */
export class PhaseStrip {
  readonly el: HTMLElement
  private readonly chip: HTMLElement
  private readonly step: HTMLElement
  private readonly title: HTMLElement
  private readonly planned: HTMLElement
  private readonly allow: HTMLElement
  private readonly nextButton: HTMLButtonElement
  private lastPhase: string | null
  private readonly cleanups: Array<() => void> = []

  constructor (private readonly ctx: BoardContext, private readonly rules: FacilitationRules, private readonly agenda: Agenda, private readonly timer: TimerDisplay) {
    this.step = h('span', { class: 'phase-step' })
    this.title = h('span', { class: 'phase-title' })
    this.planned = h('span', { class: 'phase-planned' })
    this.allow = h('span', { class: 'phase-allow' })
    this.chip = h('div', { class: 'phase-chip' }, h('div', { class: 'phase-name' }, this.step, this.title, this.planned), this.allow)
    this.nextButton = h('button', { type: 'button', class: 'tool phase-next' })
    this.nextButton.addEventListener('click', () => {
      if (this.rules.current()?.index === this.rules.phases.length - 1) this.agenda.goTo(null)
      else this.agenda.next()
    })
    this.el = h('div', { class: 'facilitation-strip canvas-control', role: 'group' }, this.chip, timer.el, this.nextButton)
    this.lastPhase = rules.currentId
    this.cleanups.push(rules.onMetaChange(() => this.changed()))
    this.cleanups.push(timer.onChange(() => this.render()))
    this.render()
  }

  destroy (): void {
    for (const c of this.cleanups) c()
  }

  private changed (): void {
    const id = this.rules.currentId
    if (id !== this.lastPhase) {
      this.lastPhase = id
      const current = this.rules.current()
      if (current) {
        const sentence = allowSentence(current.phase, this.ctx.facilitator())
        announce(`${t('phase.nowSaid', { n: current.index + 1, total: this.rules.phases.length, title: phaseTitle(current.phase, current.index) })} ${sentence}`.trim())
      } else {
        announce(t('phase.endedSaid'))
      }
    }
    this.render()
  }

  render (): void {
    const current = this.rules.current()
    const facilitator = this.ctx.facilitator()
    this.el.setAttribute('aria-label', t('phase.strip'))
    this.el.hidden = current === null && !this.timer.visible
    this.chip.hidden = current === null
    this.timer.el.hidden = !this.timer.visible
    this.timer.render()
    if (current) {
      this.step.textContent = t('phase.step', { n: current.index + 1, total: this.rules.phases.length })
      this.title.textContent = phaseTitle(current.phase, current.index)
      const sentence = allowSentence(current.phase, facilitator)
      this.allow.textContent = sentence
      this.allow.hidden = sentence === ''
      // Its planned duration, unless the timer counts it down already.
      const minutes = current.phase.minutes
      this.planned.hidden = minutes === null || this.rules.timer?.phase === current.phase.id
      this.planned.textContent = minutes === null ? '' : t('phase.planned', { n: minutes })
    }
    const last = current !== null && current.index === this.rules.phases.length - 1
    this.nextButton.hidden = !facilitator || current === null
    this.nextButton.disabled = !this.ctx.canEdit()
    setButton(this.nextButton, last ? 'stop' : 'next', last ? t('phase.finish') : t('phase.next'), last ? t('phase.finishShort') : t('phase.nextShort'))
  }
}

// ---- the facilitators' panel -------------------------------------------------------------------

interface Row {
  el: HTMLElement
  number: HTMLElement
  badge: HTMLElement
  title: HTMLInputElement
  minutes: HTMLInputElement
  boxes: Map<string, HTMLInputElement>
  legend: HTMLElement
  go: HTMLButtonElement
  up: HTMLButtonElement
  down: HTMLButtonElement
  remove: HTMLButtonElement
  labels: HTMLElement[]
  /** Silent writing (private.ts). */
  silent: PrivatePhaseOption
}

/** The side panel where facilitators define and run the agenda, and the timer. */
export class AgendaPanel {
  readonly panel: SidePanel
  private readonly status: HTMLElement
  private readonly prevButton: HTMLButtonElement
  private readonly goButton: HTMLButtonElement
  private readonly endButton: HTMLButtonElement
  private readonly timerBox: HTMLInputElement
  private readonly timerBoxLabel: HTMLElement
  private readonly list: HTMLOListElement
  private readonly empty: HTMLElement
  private readonly addButton: HTMLButtonElement
  private readonly hint: HTMLElement
  private readonly phasesHeading: HTMLElement
  private readonly timerHeading: HTMLElement
  private readonly timerMinutes: HTMLInputElement
  private readonly timerMinutesLabel: HTMLElement
  private readonly timerStart: HTMLButtonElement
  private readonly timerClear: HTMLButtonElement
  private readonly timerHint: HTMLElement
  private readonly rows = new Map<string, Row>()
  private readonly cleanups: Array<() => void> = []

  constructor (private readonly ctx: BoardContext, private readonly rules: FacilitationRules, private readonly agenda: Agenda, private readonly timer: SharedTimer, group: SidePanel[]) {
    this.panel = new SidePanel('agenda-panel', 'phase.panel', 'agenda', group)
    this.hint = h('p', { class: 'hint' })
    this.status = h('p', { class: 'agenda-status', role: 'status' })
    this.prevButton = h('button', { type: 'button', class: 'secondary' })
    this.goButton = h('button', { type: 'button', class: 'agenda-go' })
    this.endButton = h('button', { type: 'button', class: 'secondary' })
    this.prevButton.addEventListener('click', () => this.agenda.previous())
    this.goButton.addEventListener('click', () => this.agenda.next())
    this.endButton.addEventListener('click', () => this.agenda.goTo(null))
    this.timerBox = h('input', { type: 'checkbox', id: 'agenda-starts-timer' })
    this.timerBoxLabel = h('span', {})
    this.timerBox.addEventListener('change', () => { this.agenda.startsTimer = this.timerBox.checked })
    this.phasesHeading = h('h3', {})
    this.list = h('ol', { class: 'agenda-list' })
    this.empty = h('p', { class: 'hint' })
    this.addButton = h('button', { type: 'button', class: 'secondary agenda-add' })
    this.addButton.addEventListener('click', () => {
      const id = this.agenda.add()
      if (!id) return
      this.render()
      const row = this.rows.get(id)
      row?.title.focus()
      row?.title.select()
      announce(t('phase.added'))
    })
    this.timerHeading = h('h3', {})
    this.timerMinutes = h('input', { type: 'number', id: 'agenda-timer-minutes', min: 1, max: MAX_PHASE_MINUTES, step: 1, inputmode: 'numeric', value: '5' })
    this.timerMinutesLabel = h('label', { for: 'agenda-timer-minutes' })
    this.timerStart = h('button', { type: 'button', class: 'agenda-timer-start' })
    this.timerStart.addEventListener('click', () => this.agenda.startTimer(Number(this.timerMinutes.value)))
    this.timerMinutes.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.agenda.startTimer(Number(this.timerMinutes.value)) }
    })
    this.timerClear = h('button', { type: 'button', class: 'secondary' })
    this.timerClear.addEventListener('click', () => this.timer.clear())
    this.timerHint = h('p', { class: 'hint' })
    this.panel.body.append(
      this.hint,
      h('section', { class: 'agenda-run' }, this.status, h('div', { class: 'agenda-actions' }, this.prevButton, this.goButton, this.endButton),
        h('label', { class: 'checkbox' }, this.timerBox, this.timerBoxLabel)),
      h('section', { class: 'agenda-phases' }, this.phasesHeading, this.empty, this.list, this.addButton),
      h('section', { class: 'agenda-timer' }, this.timerHeading, this.timerHint,
        h('div', { class: 'field' }, this.timerMinutesLabel, h('div', { class: 'agenda-timer-row' }, this.timerMinutes, this.timerStart)),
        this.timerClear))
    this.cleanups.push(rules.onMetaChange(() => this.render()))
    this.cleanups.push(this.panel.onToggle((open) => { if (open) this.render() }))
    this.render()
  }

  destroy (): void {
    for (const c of this.cleanups) c()
  }

  /** Language change. */
  relabel (): void {
    this.panel.relabel()
    for (const row of this.rows.values()) row.el.remove()
    this.rows.clear()
    this.render()
  }

  render (): void {
    const facilitator = this.ctx.facilitator()
    this.panel.toggle.hidden = !facilitator
    if (!facilitator) this.panel.show(false)
    const editable = this.ctx.canEdit() && facilitator
    const phases = this.rules.phases
    const current = this.rules.current()
    this.hint.textContent = t('phase.panelHint')
    // A live region: touched only when what it says changes.
    const status = current
      ? t('phase.current', { n: current.index + 1, total: phases.length, title: phaseTitle(current.phase, current.index) })
      : phases.length > 0 ? t('phase.noneCurrent') : t('phase.noneDefined')
    if (this.status.textContent !== status) this.status.textContent = status
    this.prevButton.textContent = t('phase.previous')
    this.prevButton.hidden = !current || current.index === 0
    this.goButton.textContent = current ? t('phase.next') : t('phase.begin')
    this.goButton.hidden = phases.length === 0 || (current !== null && current.index === phases.length - 1)
    this.endButton.textContent = t('phase.finish')
    this.endButton.hidden = !current && this.rules.currentId === null
    for (const b of [this.prevButton, this.goButton, this.endButton, this.addButton, this.timerStart, this.timerClear]) b.disabled = !editable
    this.timerBox.checked = this.agenda.startsTimer
    this.timerBoxLabel.textContent = t('phase.startsTimer')
    this.phasesHeading.textContent = t('phase.list')
    this.empty.textContent = t('phase.empty')
    this.empty.hidden = phases.length > 0
    this.addButton.textContent = t('phase.add')
    this.timerHeading.textContent = t('timer.heading')
    this.timerHint.textContent = t('timer.panelHint')
    this.timerMinutesLabel.textContent = t('timer.minutesLabel')
    this.timerStart.textContent = this.timer.state ? t('timer.restart') : t('timer.start')
    this.timerClear.textContent = t('timer.clear')
    this.timerClear.hidden = this.timer.state === null

    // One row per phase, kept across renders: a field being typed in is never overwritten.
    const seen = new Set<string>()
    phases.forEach((phase, index) => {
      seen.add(phase.id)
      let row = this.rows.get(phase.id)
      if (!row) {
        row = this.createRow(phase.id)
        this.rows.set(phase.id, row)
      }
      this.updateRow(row, phase, index, phases.length, current?.phase.id === phase.id, editable)
      if (this.list.children[index] !== row.el) this.list.insertBefore(row.el, this.list.children[index] ?? null)
    })
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue
      row.el.remove()
      this.rows.delete(id)
    }
  }

  private createRow (id: string): Row {
    const titleId = `phase-title-${id}`
    const minutesId = `phase-minutes-${id}`
    const number = h('span', { class: 'agenda-number' })
    const badge = h('span', { class: 'badge agenda-current' })
    const title = h('input', { type: 'text', id: titleId, maxlength: MAX_PHASE_TITLE, autocomplete: 'off' })
    const minutes = h('input', { type: 'number', id: minutesId, min: 1, max: MAX_PHASE_MINUTES, step: 1, inputmode: 'numeric' })
    const titleLabel = h('label', { for: titleId })
    const minutesLabel = h('label', { for: minutesId })
    title.addEventListener('change', () => this.agenda.update(id, { title: title.value.trim().slice(0, MAX_PHASE_TITLE) }))
    title.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); title.blur() } })
    minutes.addEventListener('change', () => {
      const n = Number(minutes.value)
      this.agenda.update(id, { minutes: minutes.value.trim() === '' || !(n > 0) ? null : Math.min(MAX_PHASE_MINUTES, Math.round(n)) })
    })
    const boxes = new Map<string, HTMLInputElement>()
    const legend = h('legend', {})
    const fieldset = h('fieldset', { class: 'agenda-allow' }, legend)
    const labels: HTMLElement[] = []
    for (const kind of ADD_KINDS) {
      const box = h('input', { type: 'checkbox', 'data-kind': kind.id })
      box.addEventListener('change', () => this.saveAllow(id))
      boxes.set(kind.id, box)
      const text = h('span', {})
      labels.push(text)
      fieldset.append(h('label', { class: 'checkbox' }, box, text))
    }
    const silent = new PrivatePhaseOption(id, () => this.rules.phases.find((p) => p.id === id), (extra) => this.agenda.update(id, { extra }))
    const go = h('button', { type: 'button', class: 'secondary agenda-row-go' })
    go.addEventListener('click', () => this.agenda.goTo(id))
    const up = h('button', { type: 'button', class: 'tool' })
    const down = h('button', { type: 'button', class: 'tool' })
    const remove = h('button', { type: 'button', class: 'tool agenda-remove' })
    up.addEventListener('click', () => { this.agenda.move(id, -1); this.render(); this.rows.get(id)?.up.focus() })
    down.addEventListener('click', () => { this.agenda.move(id, 1); this.render(); this.rows.get(id)?.down.focus() })
    remove.addEventListener('click', () => {
      const name = this.rows.get(id)?.title.value ?? ''
      this.agenda.remove(id)
      this.addButton.focus()
      announce(t('phase.removed', { title: name }))
    })
    const el = h('li', { class: 'agenda-row', 'data-phase-id': id },
      h('div', { class: 'agenda-row-head' }, number, badge),
      h('div', { class: 'agenda-fields' },
        h('div', { class: 'field agenda-title' }, titleLabel, title),
        h('div', { class: 'field agenda-minutes' }, minutesLabel, minutes)),
      fieldset,
      silent.el,
      h('div', { class: 'agenda-row-actions' }, go, up, down, remove))
    return { el, number, badge, title, minutes, boxes, legend, go, up, down, remove, labels: [titleLabel, minutesLabel, ...labels], silent }
  }

  private updateRow (row: Row, phase: Phase, index: number, count: number, isCurrent: boolean, editable: boolean): void {
    const name = phaseTitle(phase, index)
    row.el.classList.toggle('current', isCurrent)
    row.number.textContent = t('phase.number', { n: index + 1 })
    row.badge.textContent = t('phase.currentBadge')
    row.badge.hidden = !isCurrent
    const [titleLabel, minutesLabel, ...kindLabels] = row.labels
    titleLabel.textContent = t('phase.titleLabel')
    minutesLabel.textContent = t('phase.minutesLabel')
    if (document.activeElement !== row.title) row.title.value = phase.title
    row.title.placeholder = t('phase.untitled', { n: index + 1 })
    if (document.activeElement !== row.minutes) row.minutes.value = phase.minutes === null ? '' : String(phase.minutes)
    row.legend.textContent = t('phase.allowLegend')
    ADD_KINDS.forEach((kind, i) => {
      kindLabels[i].textContent = t(kind.label)
      const box = row.boxes.get(kind.id)
      if (box) {
        box.checked = phase.allow === null || kind.roots.some((r) => phase.allow?.includes(r))
        box.disabled = !editable
      }
    })
    row.title.disabled = !editable
    row.minutes.disabled = !editable
    row.silent.update(phase, editable)
    row.go.textContent = isCurrent ? t('phase.restart') : t('phase.goTo')
    row.go.setAttribute('aria-label', isCurrent ? t('phase.restartLabel', { title: name }) : t('phase.goToLabel', { title: name }))
    row.go.disabled = !editable
    setButton(row.up, 'up', t('phase.moveUp', { title: name }))
    setButton(row.down, 'down', t('phase.moveDown', { title: name }))
    setButton(row.remove, 'trash', t('phase.remove', { title: name }))
    row.up.disabled = !editable || index === 0
    row.down.disabled = !editable || index === count - 1
    row.remove.disabled = !editable
  }

  /** The boxes of a row → the phase's `allow` (all of them: no `allow`, anything). */
  private saveAllow (id: string): void {
    const row = this.rows.get(id)
    if (!row) return
    const roots: string[] = []
    let all = true
    for (const kind of ADD_KINDS) {
      if (row.boxes.get(kind.id)?.checked) roots.push(...kind.roots)
      else all = false
    }
    // Maps this UI does not offer, that another client allowed, stay allowed.
    const known = new Set<string>(ADD_KINDS.flatMap((k) => [...k.roots]))
    const others = (this.rules.phases.find((p) => p.id === id)?.allow ?? []).filter((r) => !known.has(r))
    this.agenda.update(id, { allow: all && others.length === 0 ? null : [...roots, ...others] })
  }
}
