// Radar du futur (docs/board-schema.md, "Radar du futur"): weak signals placed on a radar whose
// sectors are themes and whose rings are time horizons (`meta.radar`, set by facilitators). The
// radar is drawn under the notes, centred on the world's origin; every note is a signal, with a
// source, a date and a confidence, and a `slot` (the cell its centre lies in) that whoever moves
// or adds the note keeps up to date. A side panel adds a signal (a form: no dragging needed),
// shows the selected one (its metadata, votes and comments) and lets facilitators moderate: hide
// a signal (participants no longer see it; notes.ts) and merge two. A facilitators' panel sets
// the themes, the horizons and how many signals a guest may post per minute.

import * as Y from 'yjs'
import { announce, clear, h, svg } from '../dom'
import { t, type MessageKey } from '../i18n'
import { displayName } from '../session'
import { icon } from '../board/icons'
import { boardTopZ } from '../board/operations'
import { SidePanel } from '../board/panel'
import {
  dotCount, isNote, makeNote, metaOf, newId, NOTE, noteText, noteVotes, notesOf, readNote,
  zBetween, type NoteMap
} from '../board/schema'
import { LOCAL } from '../board/sync'
import type { KindHost, KindView } from './index'
import {
  cellPoint, MAX_RINGS, MAX_SECTORS, MAX_TITLE, radius, readRadar, readSlot, RING_WIDTH, sameSlot, slotAt,
  type RadarConfig, type RadarEntry, type Slot
} from './radar-geometry'

/** Keys of a signal (a note of a radar board). */
export const SIGNAL = {
  source: 'source',
  date: 'date',
  confidence: 'confidence',
  slot: 'slot',
  comments: 'comments',
  hidden: 'hidden'
} as const
export const CONFIDENCES = ['low', 'medium', 'high'] as const
export type Confidence = typeof CONFIDENCES[number]

export interface Comment { id: string, by: string, name?: string, text: string, at: number }

const SIGNAL_SIZE: [number, number] = [200, 140]
const MAX_SOURCE = 500
const MAX_COMMENT = 1000
const MAX_SIGNAL_TEXT = 1000
/** Origin of the slot fix-ups a facilitator's page makes (not the participant's own undo). */
const FIXUP = Symbol('radar-slots')

const confidenceKey = (c: Confidence): MessageKey => `radar.confidence.${c}` as MessageKey

function readConfidence (v: unknown): Confidence | null {
  return (CONFIDENCES as readonly unknown[]).includes(v) ? v as Confidence : null
}

function readComments (note: NoteMap): Comment[] {
  const arr = note.get(SIGNAL.comments)
  if (!(arr instanceof Y.Array)) return []
  const out: Comment[] = []
  for (const c of arr.toArray()) {
    if (!c || typeof c !== 'object') continue
    const o = c as Record<string, unknown>
    if (typeof o.text !== 'string' || typeof o.by !== 'string') continue
    out.push({ id: String(o.id ?? ''), by: o.by, name: typeof o.name === 'string' ? o.name : undefined, text: o.text, at: typeof o.at === 'number' ? o.at : 0 })
  }
  return out
}

function today (): string {
  const d = new Date()
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/** The `comments` array of a note, created (inside the caller's transaction) when missing. */
function commentsOf (note: NoteMap): Y.Array<unknown> {
  const arr = note.get(SIGNAL.comments)
  if (arr instanceof Y.Array) return arr
  const made = new Y.Array<unknown>()
  note.set(SIGNAL.comments, made)
  return made
}

/** Who may remove which comment, and how (facilitators any, participants their own). */
interface CommentActions { canRemove: (c: Comment) => boolean, remove: (c: Comment) => void }

/** Shows the comments of a signal in its list (the title counts them). */
function fillComments (comments: Comment[], title: HTMLElement, list: HTMLElement, none: HTMLElement, actions: CommentActions): void {
  title.textContent = t('radar.commentsTitle', { n: comments.length })
  none.hidden = comments.length > 0
  list.hidden = comments.length === 0
  // Comments are mostly appended: keep the items shown while they are the first ones, add the
  // new ones; after a removal or a merge, rebuild.
  const shown = [...list.children].map((li) => (li as HTMLElement).dataset.id)
  if (shown.length > comments.length || shown.some((id, i) => id !== comments[i].id)) clear(list)
  for (const c of comments.slice(list.childElementCount)) {
    const name = c.name || t('radar.someone')
    const li = h('li', { class: 'radar-comment' },
      h('span', { class: 'radar-comment-by' }, name),
      h('span', { class: 'radar-comment-text' }, c.text))
    li.dataset.id = c.id
    if (actions.canRemove(c)) {
      const remove = h('button', { type: 'button', class: 'secondary danger radar-comment-remove', 'aria-label': t('radar.commentRemoveLabel', { name }) }, t('radar.commentRemove'))
      remove.addEventListener('click', () => actions.remove(c))
      li.append(remove)
    }
    list.append(li)
  }
}

let fieldSeq = 0
function field (label: HTMLElement, control: HTMLElement): HTMLElement {
  const id = `radar-field-${++fieldSeq}`
  control.id = id
  label.setAttribute('for', id)
  return h('div', { class: 'field' }, label, control)
}

export function mountRadar (host: KindHost): KindView {
  const { ctx } = host
  const doc = ctx.doc
  const meta = metaOf(doc)
  const notesMap = notesOf(doc)
  let config: RadarConfig = readRadar(meta.get('radar'))
  const cleanups: Array<() => void> = []

  // ---- the radar, drawn in the world under every item -------------------------------------
  const drawing = svg('svg', { class: 'radar-layer', 'aria-hidden': 'true' })
  ctx.canvas.world.prepend(drawing)
  const draw = (): void => {
    const R = radius(config)
    const pad = 120
    const S = R + pad
    drawing.setAttribute('viewBox', `${-S} ${-S} ${2 * S} ${2 * S}`)
    drawing.setAttribute('width', String(2 * S))
    drawing.setAttribute('height', String(2 * S))
    drawing.style.transform = `translate(${-S}px, ${-S}px)`
    while (drawing.firstChild) drawing.removeChild(drawing.firstChild)
    // Rings, outermost first so the inner ones paint over it.
    for (let i = config.rings.length - 1; i >= 0; i--) {
      drawing.append(svg('circle', { cx: 0, cy: 0, r: (i + 1) * RING_WIDTH, class: `radar-ring radar-ring-${i % 2}` }))
    }
    const n = config.sectors.length
    const span = Math.PI * 2 / n
    for (let s = 0; s < n; s++) {
      const a = s * span
      drawing.append(svg('line', { x1: 0, y1: 0, x2: R * Math.sin(a), y2: -R * Math.cos(a), class: 'radar-spoke' }))
      const mid = (s + 0.5) * span
      const label = svg('text', { x: (R + 60) * Math.sin(mid), y: -(R + 60) * Math.cos(mid) + 14, class: 'radar-sector-label', 'text-anchor': 'middle' })
      label.textContent = config.sectors[s].title
      drawing.append(label)
    }
    config.rings.forEach((ring, i) => {
      const label = svg('text', { x: 0, y: -(i + 1) * RING_WIDTH + 40, class: 'radar-ring-label', 'text-anchor': 'middle' })
      label.textContent = ring.title
      drawing.append(label)
    })
  }
  draw()

  // ---- slots: whoever adds or moves a note writes where it now lies --------------------------
  const slotOf = (note: NoteMap): Slot | null => {
    const d = readNote('', note)
    return slotAt(config, d.x + d.w / 2, d.y + d.h / 2)
  }
  const fix = (ids: Iterable<string>, origin: unknown): void => {
    const changes: Array<[NoteMap, Slot | null]> = []
    for (const id of ids) {
      const note = notesMap.get(id)
      if (!isNote(note)) continue
      const slot = slotOf(note)
      if (!sameSlot(slot, readSlot(note.get(SIGNAL.slot)))) changes.push([note, slot])
    }
    if (changes.length === 0 || !ctx.canEdit()) return
    doc.transact(() => {
      for (const [note, slot] of changes) {
        if (slot) note.set(SIGNAL.slot, slot)
        else note.delete(SIGNAL.slot)
      }
    }, origin)
  }
  const slotObserver = (events: Array<Y.YEvent<any>>, tr: Y.Transaction): void => {
    if (tr.origin === FIXUP) return
    if (!tr.local) {
      // Notes arriving from elsewhere with a stale slot (signals moved while private, merged by
      // a reveal; a client without the radar): a facilitator's page puts them right.
      if (!ctx.facilitator()) return
      const added: string[] = []
      for (const event of events) {
        if (event.target !== notesMap) continue
        for (const [key, change] of (event as Y.YMapEvent<NoteMap>).changes.keys) if (change.action === 'add') added.push(key)
      }
      if (added.length > 0) fix(added, FIXUP)
      return
    }
    const ids = new Set<string>()
    for (const event of events) {
      if (event.target === notesMap) {
        for (const key of (event as Y.YMapEvent<NoteMap>).keysChanged) ids.add(key)
      } else if (event.path.length === 1 && event instanceof Y.YMapEvent && (event.keysChanged.has(NOTE.xy) || event.keysChanged.has(NOTE.wh))) {
        ids.add(String(event.path[0]))
      }
    }
    // (A new transaction, run as this one ends: undone together with the move.)
    if (ids.size > 0) fix(ids, LOCAL)
  }
  notesMap.observeDeep(slotObserver)
  cleanups.push(() => notesMap.unobserveDeep(slotObserver))
  /** A facilitator's page puts right the slots others left stale (a client without the radar). */
  const fixAll = (): void => { if (ctx.facilitator()) fix([...notesMap.keys()], FIXUP) }

  const metaObserver = (): void => {
    const next = readRadar(meta.get('radar'))
    if (JSON.stringify(next) !== JSON.stringify(config)) {
      config = next
      draw()
      fixAll()
      panelRender()
    }
    settings.syncFromMeta()
  }
  meta.observe(metaObserver)
  cleanups.push(() => meta.unobserve(metaObserver))

  // ---- placing a signal in a cell -------------------------------------------------------------
  const freeSpot = (slot: Slot, skip?: string): [number, number] | null => {
    const [w, hgt] = SIGNAL_SIZE
    // (A silent phase's private notes too: they are revealed where they are.)
    const others = [...host.notes.all(), ...(host.notes.divert?.all() ?? [])].filter((n) => n.id !== skip)
    const overlaps = (x: number, y: number): boolean => others.some((n) => n.x < x + w / 2 && n.x + n.w > x - w / 2 && n.y < y + hgt / 2 && n.y + n.h > y - hgt / 2)
    const ring = config.rings.findIndex((r) => r.id === slot.ring)
    const outs = ring === 0 ? [0.6, 0.8, 0.4] : [0.5, 0.25, 0.75]
    for (const out of outs) {
      for (const along of [0.5, 0.3, 0.7, 0.15, 0.85]) {
        const p = cellPoint(config, slot, along, out)
        if (p && !overlaps(p[0], p[1]) && sameSlot(slotAt(config, p[0], p[1]), slot)) return p
      }
    }
    const p = cellPoint(config, slot, 0.35 + Math.random() * 0.3, ring === 0 ? 0.6 : 0.35 + Math.random() * 0.3)
    return p
  }

  /** The signals this participant added lately (the board's per-minute limit). */
  const myAdds: number[] = []
  const limitRefusal = (): string | null => {
    if (ctx.facilitator()) return null
    const limit = meta.get('addsPerMinute')
    if (typeof limit !== 'number' || !Number.isFinite(limit)) return null
    const now = Date.now()
    while (myAdds.length > 0 && now - myAdds[0] > 60_000) myAdds.shift()
    return myAdds.length >= limit ? t('radar.tooMany', { n: limit }) : null
  }

  const addSignal = (s: { text: string, source: string, date: string, confidence: Confidence, slot: Slot }): string | null => {
    if (!ctx.canEdit()) { announce(t('board.readOnlyAnnounce')); return null }
    const refusal = ctx.addRefusal('notes') ?? limitRefusal()
    if (refusal !== null) {
      ctx.tell(refusal)
      // (Also in the form: on a tablet the panel may cover the message over the board.)
      composer.error.textContent = refusal
      return null
    }
    const p = freeSpot(s.slot)
    if (!p) return null
    const id = newId()
    const [w, hgt] = SIGNAL_SIZE
    const note = makeNote({ x: p[0] - w / 2, y: p[1] - hgt / 2, w, h: hgt, z: zBetween(boardTopZ(ctx), null), color: ctx.noteColor, text: s.text, createdBy: ctx.participantId })
    if (s.source) note.set(SIGNAL.source, s.source)
    if (s.date) note.set(SIGNAL.date, s.date)
    note.set(SIGNAL.confidence, s.confidence)
    note.set(SIGNAL.slot, s.slot)
    note.set(SIGNAL.comments, new Y.Array())
    // Where every new note goes: during a silent phase, this participant's private document
    // (board/private.ts), revealed with the others' by the facilitator; else the board.
    host.notes.insert(id, note)
    myAdds.push(Date.now())
    return id
  }

  const moveTo = (id: string, slot: Slot): void => {
    const note = notesMap.get(id)
    if (!isNote(note) || ctx.lockedForMe(id)) return
    const p = freeSpot(slot, id)
    if (!p) return
    const d = readNote(id, note)
    ctx.undo.stopCapturing()
    doc.transact(() => {
      note.set(NOTE.xy, [Math.round(p[0] - d.w / 2), Math.round(p[1] - d.h / 2)])
      note.set(SIGNAL.slot, slot)
    }, LOCAL)
    ctx.undo.stopCapturing()
    ctx.canvas.reveal({ x: p[0] - d.w / 2, y: p[1] - d.h / 2, w: d.w, h: d.h }, 64)
  }

  const setKey = (id: string, key: string, value: string | null): void => {
    const note = notesMap.get(id)
    if (!isNote(note) || !ctx.canEdit() || ctx.lockedForMe(id)) return
    if ((note.get(key) ?? null) === value) return
    doc.transact(() => { if (value === null || value === '') note.delete(key); else note.set(key, value) }, LOCAL)
  }

  const comment = (id: string, text: string): boolean => {
    const note = notesMap.get(id)
    if (!isNote(note) || !ctx.canEdit()) return false
    doc.transact(() => {
      commentsOf(note).push([{ id: newId(), by: ctx.participantId, name: displayName(host.session), text, at: Date.now() }])
    }, LOCAL)
    return true
  }

  /** Removes a comment (one's own, or any for facilitators: the server checks the same). */
  const removeComment = (id: string, c: Comment): void => {
    const note = notesMap.get(id)
    if (!isNote(note) || !ctx.canEdit()) return
    const arr = note.get(SIGNAL.comments)
    if (!(arr instanceof Y.Array)) return
    const at = arr.toArray().findIndex((e) => !!e && typeof e === 'object' && (e as Record<string, unknown>).id === c.id)
    if (at < 0) return
    doc.transact(() => { arr.delete(at, 1) }, LOCAL)
    announce(t('radar.commentRemoved'))
    // The panel is rebuilt: the focus goes on to the comment field.
    requestAnimationFrame(() => panel.body.querySelector<HTMLElement>('.radar-comment-form textarea')?.focus())
  }
  const commentActions = (id: string): CommentActions => ({
    canRemove: (c) => ctx.canEdit() && (ctx.facilitator() || c.by === ctx.participantId),
    remove: (c) => removeComment(id, c)
  })

  const setHidden = (id: string, hidden: boolean): void => {
    const note = notesMap.get(id)
    if (!isNote(note) || !ctx.facilitator()) return
    ctx.undo.stopCapturing()
    doc.transact(() => { if (hidden) note.set(SIGNAL.hidden, true); else note.delete(SIGNAL.hidden) }, LOCAL)
    ctx.undo.stopCapturing()
    announce(t(hidden ? 'radar.hiddenDone' : 'radar.restoredDone'))
  }

  /** Merges two signals into the older one: one transaction. */
  const merge = (a: string, b: string): string | null => {
    const na = notesMap.get(a)
    const nb = notesMap.get(b)
    if (!isNote(na) || !isNote(nb) || !ctx.facilitator()) return null
    const [keep, gone] = readNote(a, na).createdAt <= readNote(b, nb).createdAt ? [na, nb] : [nb, na]
    const keepId = keep === na ? a : b
    const goneId = keep === na ? b : a
    ctx.undo.stopCapturing()
    doc.transact(() => {
      const text = noteText(keep)
      const other = noteText(gone)?.toString().trim() ?? ''
      if (text && other !== '') text.insert(text.length, text.length > 0 ? `\n\n${other}` : other)
      const sources = [...new Set([str(keep.get(SIGNAL.source)).trim(), str(gone.get(SIGNAL.source)).trim()].filter((s) => s !== ''))]
      if (sources.length > 0) keep.set(SIGNAL.source, sources.join(' ; ').slice(0, MAX_SOURCE * 2))
      if (!str(keep.get(SIGNAL.date)) && str(gone.get(SIGNAL.date))) keep.set(SIGNAL.date, str(gone.get(SIGNAL.date)))
      if (!readConfidence(keep.get(SIGNAL.confidence)) && readConfidence(gone.get(SIGNAL.confidence))) keep.set(SIGNAL.confidence, gone.get(SIGNAL.confidence))
      const votes = noteVotes(keep)
      const goneVotes = gone.get(NOTE.votes)
      if (goneVotes instanceof Y.Map) {
        for (const [who, n] of goneVotes.entries()) {
          const sum = dotCount(votes.get(who)) + dotCount(n)
          if (sum > 0) votes.set(who, sum)
        }
      }
      const moved = readComments(gone)
      if (moved.length > 0) commentsOf(keep).push(moved.map((c) => ({ ...c })))
      notesMap.delete(goneId)
    }, LOCAL)
    ctx.undo.stopCapturing()
    ctx.selection.set([keepId])
    announce(t('radar.merged'))
    return keepId
  }

  // ---- badges on the notes: confidence, comments, hidden -----------------------------------
  const decorate = (): void => {
    for (const id of host.notes.ids()) {
      const el = host.notes.element(id)
      const note = notesMap.get(id)
      if (!el || !isNote(note)) continue
      const conf = readConfidence(note.get(SIGNAL.confidence))
      const count = readComments(note).length
      const text = [conf ? t('radar.badgeConfidence', { c: t(confidenceKey(conf)) }) : '', count > 0 ? t('radar.badgeComments', { n: count }) : ''].filter(Boolean).join(' · ')
      let badge = el.querySelector<HTMLElement>(':scope > .radar-badge')
      if (text === '') { badge?.remove(); continue }
      if (!badge) {
        badge = h('span', { class: 'radar-badge', 'aria-hidden': 'true' })
        el.append(badge)
      }
      if (badge.textContent !== text) badge.textContent = text
      if (conf) badge.dataset.confidence = conf
    }
  }
  cleanups.push(host.notes.onChange(() => { decorate(); panelRender() }))

  // ---- the signals panel: add, details, moderation ----------------------------------------
  const panel = new SidePanel('radar-panel', 'radar.panel', 'note', host.panels)
  host.body.append(panel.el)
  const addButton = h('button', { type: 'button', class: 'tool radar-add' })
  addButton.addEventListener('click', () => {
    ctx.selection.clear()
    panel.show(true)
    panelRender(true)
    composer.text.focus()
  })
  host.toolbarExtras.append(addButton, panel.toggle)

  const sectorSelect = (value?: string): HTMLSelectElement => {
    const sel = h('select', {})
    for (const s of config.sectors) sel.append(h('option', { value: s.id }, s.title || t('radar.untitled')))
    if (value) sel.value = value
    return sel
  }
  const ringSelect = (value?: string): HTMLSelectElement => {
    const sel = h('select', {})
    for (const r of config.rings) sel.append(h('option', { value: r.id }, r.title || t('radar.untitled')))
    if (value) sel.value = value
    return sel
  }
  const confidenceSelect = (value?: Confidence | null): HTMLSelectElement => {
    const sel = h('select', {})
    for (const c of CONFIDENCES) sel.append(h('option', { value: c }, t(confidenceKey(c))))
    sel.value = value ?? 'medium'
    return sel
  }

  // The composer ("Ajouter un signal"): built once per render of the add view.
  const composer = {
    text: h('textarea', { rows: 3, maxlength: MAX_SIGNAL_TEXT, required: true }) as HTMLTextAreaElement,
    source: h('input', { type: 'text', maxlength: MAX_SOURCE, autocomplete: 'off' }) as HTMLInputElement,
    date: h('input', { type: 'date' }) as HTMLInputElement,
    confidence: confidenceSelect(),
    sector: sectorSelect(),
    ring: ringSelect(),
    error: h('p', { class: 'form-error', role: 'alert' })
  }
  composer.date.value = today()
  const submitSignal = (): void => {
    const text = composer.text.value.trim()
    if (text === '') {
      composer.error.textContent = t('radar.textRequired')
      composer.text.focus()
      return
    }
    composer.error.textContent = ''
    const id = addSignal({
      text,
      source: composer.source.value.trim().slice(0, MAX_SOURCE),
      date: /^\d{4}-\d{2}-\d{2}$/.test(composer.date.value) ? composer.date.value : '',
      confidence: readConfidence(composer.confidence.value) ?? 'medium',
      slot: { sector: composer.sector.value, ring: composer.ring.value }
    })
    if (!id) return
    composer.text.value = ''
    composer.source.value = ''
    const added = t(host.notes.get(id) === null && host.notes.divert?.has(id) === true ? 'radar.addedPrivate' : 'radar.added')
    announce(added)
    ctx.tell(added)
    const d = host.notes.get(id) ?? host.notes.divert?.get(id)
    if (d) ctx.canvas.reveal({ x: d.x, y: d.y, w: d.w, h: d.h }, 64)
    composer.text.focus()
  }
  const composerView = (): HTMLElement => {
    // The selects follow the radar's themes and horizons (keep what was chosen).
    const sector = sectorSelect(composer.sector.value)
    const ring = ringSelect(composer.ring.value)
    composer.sector.replaceWith(sector)
    composer.ring.replaceWith(ring)
    composer.sector = sector
    composer.ring = ring
    const form = h('form', { class: 'radar-composer', novalidate: true },
      h('h3', {}, t('radar.addTitle')),
      h('p', { class: 'hint' }, t('radar.addHint')),
      field(h('label', {}, t('radar.text')), composer.text),
      field(h('label', {}, t('radar.source')), composer.source),
      h('div', { class: 'radar-row' },
        field(h('label', {}, t('radar.date')), composer.date),
        field(h('label', {}, t('radar.confidence')), composer.confidence)),
      h('div', { class: 'radar-row' },
        field(h('label', {}, t('radar.sector')), composer.sector),
        field(h('label', {}, t('radar.ring')), composer.ring)),
      composer.error,
      h('button', { type: 'submit' }, t('radar.addSubmit')))
    form.addEventListener('submit', (e) => { e.preventDefault(); submitSignal() })
    return form
  }

  const shown = { key: '', id: null as string | null, el: null as HTMLElement | null }
  const detailsView = (id: string, note: NoteMap): HTMLElement => {
    const d = readNote(id, note)
    const editable = ctx.canEdit() && !ctx.lockedForMe(id)
    const hidden = note.get(SIGNAL.hidden) === true
    const slot = readSlot(note.get(SIGNAL.slot))
    const source = h('input', { type: 'text', maxlength: MAX_SOURCE, autocomplete: 'off', value: str(note.get(SIGNAL.source)), disabled: !editable }) as HTMLInputElement
    source.addEventListener('change', () => setKey(id, SIGNAL.source, source.value.trim().slice(0, MAX_SOURCE)))
    const date = h('input', { type: 'date', value: str(note.get(SIGNAL.date)), disabled: !editable }) as HTMLInputElement
    date.addEventListener('change', () => setKey(id, SIGNAL.date, /^\d{4}-\d{2}-\d{2}$/.test(date.value) ? date.value : null))
    const confidence = confidenceSelect(readConfidence(note.get(SIGNAL.confidence)))
    confidence.disabled = !editable
    confidence.addEventListener('change', () => setKey(id, SIGNAL.confidence, readConfidence(confidence.value)))
    const sector = sectorSelect(slot?.sector)
    const ring = ringSelect(slot?.ring)
    for (const sel of [sector, ring]) {
      sel.disabled = !editable
      sel.addEventListener('change', () => moveTo(id, { sector: sector.value, ring: ring.value }))
    }
    const where = slot
      ? t('radar.where', { sector: config.sectors.find((s) => s.id === slot.sector)?.title ?? '?', ring: config.rings.find((r) => r.id === slot.ring)?.title ?? '?' })
      : t('radar.outside')
    const sourceText = str(note.get(SIGNAL.source))
    const sourceLink = /^https?:\/\//.test(sourceText) ? h('a', { href: sourceText, target: '_blank', rel: 'noopener noreferrer' }, t('radar.openSource')) : null

    const comments = readComments(note)
    const list = h('ol', { class: 'radar-comments' })
    const commentsTitle = h('h3', { class: 'radar-comments-title' })
    const noComments = h('p', { class: 'hint radar-no-comments' }, t('radar.noComments'))
    fillComments(comments, commentsTitle, list, noComments, commentActions(id))
    const commentBox = h('textarea', { rows: 2, maxlength: MAX_COMMENT }) as HTMLTextAreaElement
    const commentForm = h('form', { class: 'radar-comment-form' },
      field(h('label', {}, t('radar.commentLabel')), commentBox),
      h('button', { type: 'submit', disabled: !ctx.canEdit() }, t('radar.commentSubmit')))
    commentForm.addEventListener('submit', (e) => {
      e.preventDefault()
      const text = commentBox.value.trim().slice(0, MAX_COMMENT)
      if (text === '') return
      if (comment(id, text)) {
        commentBox.value = ''
        announce(t('radar.commented'))
        commentBox.focus()
      }
    })

    const votes = h('div', { class: 'radar-votes' })
    if (host.voting.showTotals()) votes.append(h('p', {}, t('radar.votes', { n: d.votes })))
    if (host.voting.canVote()) {
      const add = h('button', { type: 'button', class: 'secondary' }, t('vote.add'))
      add.addEventListener('click', () => host.voting.add(id))
      const remove = h('button', { type: 'button', class: 'secondary' }, t('vote.remove'))
      remove.addEventListener('click', () => host.voting.remove(id))
      votes.append(h('div', { class: 'radar-actions' }, add, remove))
    }

    const moderation = h('div', { class: 'radar-actions' })
    if (ctx.facilitator()) {
      const toggle = h('button', { type: 'button', class: hidden ? '' : 'secondary danger' }, t(hidden ? 'radar.restore' : 'radar.hide'))
      toggle.addEventListener('click', () => setHidden(id, !hidden))
      moderation.append(toggle)
    }
    return h('section', { class: 'radar-details' },
      h('h3', {}, t('radar.detailsTitle')),
      hidden ? h('p', { class: 'radar-hidden-note' }, t('radar.hiddenNote')) : null,
      h('p', { class: 'radar-text' }, d.text.trim() || t('note.empty')),
      h('p', { class: 'hint' }, where),
      moderation,
      field(h('label', {}, t('radar.source')), source),
      sourceLink,
      h('div', { class: 'radar-row' },
        field(h('label', {}, t('radar.date')), date),
        field(h('label', {}, t('radar.confidence')), confidence)),
      h('div', { class: 'radar-row' },
        field(h('label', {}, t('radar.sector')), sector),
        field(h('label', {}, t('radar.ring')), ring)),
      votes,
      commentsTitle, noComments, list,
      commentForm)
  }

  const mergeView = (a: string, b: string): HTMLElement => {
    const text = (id: string): string => host.notes.get(id)?.text.trim() || t('note.empty')
    const button = h('button', { type: 'button' }, t('radar.merge'))
    button.addEventListener('click', () => { merge(a, b) })
    return h('section', { class: 'radar-merge' },
      h('h3', {}, t('radar.mergeTitle')),
      h('ul', {}, h('li', {}, text(a)), h('li', {}, text(b))),
      h('p', { class: 'hint' }, t('radar.mergeHint')),
      button)
  }

  /** Renders the panel's body for the selection; a view with a field being typed in is kept. */
  function panelRender (force = false): void {
    if (!panel.open && !force) return
    const selected = ctx.selection.list().filter((id) => host.notes.has(id))
    let key: string
    let build: () => HTMLElement
    if (selected.length === 1) {
      const id = selected[0]
      const note = notesMap.get(id)
      if (!isNote(note)) return
      const d = readNote(id, note)
      key = JSON.stringify(['one', id, d.text, d.votes, note.get(SIGNAL.source), note.get(SIGNAL.date), note.get(SIGNAL.confidence), note.get(SIGNAL.slot), note.get(SIGNAL.hidden), readComments(note).map((c) => c.id), host.voting.open, config, ctx.canEdit(), ctx.facilitator()])
      build = () => detailsView(id, note)
    } else if (selected.length === 2 && ctx.facilitator()) {
      key = JSON.stringify(['merge', ...selected, ...selected.map((id) => host.notes.get(id)?.text)])
      build = () => mergeView(selected[0], selected[1])
    } else {
      key = JSON.stringify(['add', config, ctx.canEdit()])
      build = composerView
    }
    if (key === shown.key && !force) return
    // A field of the same signal being used: keep it (what is typed), update the comments only;
    // the rest is rebuilt once the focus leaves the panel.
    const active = document.activeElement
    const same = shown.id !== null && shown.id === (selected.length === 1 ? selected[0] : null)
    if (!force && same && active instanceof HTMLElement && shown.el?.contains(active) && active.matches('input, textarea, select')) {
      refreshComments()
      stale = true
      return
    }
    stale = false
    shown.key = key
    shown.id = selected.length === 1 ? selected[0] : null
    const el = build()
    clear(panel.body)
    panel.body.append(el)
    shown.el = el
  }
  let stale = false
  panel.body.addEventListener('focusout', () => {
    requestAnimationFrame(() => { if (stale && !panel.body.contains(document.activeElement)) panelRender() })
  })
  /** The comments list alone (keeps the comment being typed). */
  const refreshComments = (): void => {
    const note = shown.id !== null ? notesMap.get(shown.id) : undefined
    const el = shown.el
    const list = el?.querySelector<HTMLElement>('.radar-comments')
    const title = el?.querySelector<HTMLElement>('.radar-comments-title')
    const none = el?.querySelector<HTMLElement>('.radar-no-comments')
    if (!isNote(note) || !list || !title || !none || shown.id === null) return
    fillComments(readComments(note), title, list, none, commentActions(shown.id))
  }
  cleanups.push(ctx.selection.onChange(() => panelRender()))
  cleanups.push(host.voting.onChange(() => panelRender()))
  cleanups.push(panel.onToggle((open) => { if (open) panelRender(true) }))

  // ---- the facilitators' settings: themes, horizons, posts per minute ----------------------
  const settings = new RadarSettings(host, () => config)
  cleanups.push(() => settings.destroy())

  const relabel = (): void => {
    addButton.replaceChildren(icon('plus'), h('span', { class: 'tool-label' }, t('radar.add')))
    addButton.title = t('radar.add')
    addButton.disabled = !ctx.canEdit()
    panel.relabel()
    settings.relabel()
    // The defaults are in the current language while meta.radar is absent.
    if (meta.get('radar') === undefined) {
      config = readRadar(undefined)
      draw()
    }
    host.notes.refreshHidden()
    decorate()
    panelRender(true)
  }
  relabel()
  decorate()
  // Once the board arrives (after the page fitted its items), show the whole radar.
  let arrived = false
  let frame = 0
  const offSync = ctx.sync.on(() => {
    if (arrived || !ctx.sync.synced) return
    arrived = true
    fixAll()
    // Participants come to post signals: the form is open when they arrive (facilitators keep
    // the whole canvas).
    if (!ctx.facilitator() && ctx.canEdit() && !host.panels.some((p) => p.open)) panel.show(true)
    frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => {
        const S = radius(config) + 120
        ctx.canvas.fit({ x: -S, y: -S, w: 2 * S, h: 2 * S }, 16)
      })
    })
  })
  cleanups.push(offSync, () => cancelAnimationFrame(frame))

  return {
    relabel,
    destroy: () => {
      for (const off of cleanups) off()
      drawing.remove()
      panel.el.remove()
      panel.toggle.remove()
      addButton.remove()
    }
  }
}

/** The facilitators' panel: themes (sectors), horizons (rings), signals per participant per minute. */
class RadarSettings {
  readonly panel: SidePanel
  private sectors: RadarEntry[] = []
  private rings: RadarEntry[] = []
  private readonly rate: HTMLInputElement
  private readonly status: HTMLElement
  private dirty = false

  constructor (private readonly host: KindHost, private readonly config: () => RadarConfig) {
    this.panel = new SidePanel('radar-settings', 'radar.settings', 'more', host.panels)
    host.body.append(this.panel.el)
    host.toolbarExtras.append(this.panel.toggle)
    this.rate = h('input', { type: 'number', min: 1, max: 200, step: 1, inputmode: 'numeric' }) as HTMLInputElement
    this.status = h('p', { class: 'hint', role: 'status' })
    this.panel.onToggle((open) => { if (open) { this.dirty = false; this.load(); this.render() } })
  }

  destroy (): void {
    this.panel.el.remove()
    this.panel.toggle.remove()
  }

  private load (): void {
    const c = this.config()
    this.sectors = c.sectors.map((e) => ({ ...e }))
    this.rings = c.rings.map((e) => ({ ...e }))
    const rate = metaOf(this.host.ctx.doc).get('addsPerMinute')
    this.rate.value = typeof rate === 'number' ? String(rate) : ''
  }

  /** Another facilitator saved: show it, unless this one is editing. */
  syncFromMeta (): void {
    if (this.panel.open && !this.dirty) { this.load(); this.render() }
  }

  relabel (): void {
    this.panel.relabel()
    this.panel.toggle.hidden = !this.host.ctx.facilitator()
    if (!this.host.ctx.facilitator()) this.panel.show(false)
    if (this.panel.open) this.render()
  }

  private list (which: 'sectors' | 'rings'): HTMLElement {
    const items = which === 'sectors' ? this.sectors : this.rings
    const max = which === 'sectors' ? MAX_SECTORS : MAX_RINGS
    const min = which === 'sectors' ? 2 : 1
    const ol = h('ol', { class: 'radar-settings-list' })
    items.forEach((e, i) => {
      const input = h('input', { type: 'text', maxlength: MAX_TITLE, value: e.title, autocomplete: 'off' }) as HTMLInputElement
      input.setAttribute('aria-label', t(which === 'sectors' ? 'radar.sectorN' : 'radar.ringN', { n: i + 1 }))
      input.addEventListener('input', () => { e.title = input.value; this.dirty = true })
      const remove = h('button', { type: 'button', class: 'secondary', disabled: items.length <= min }, t('radar.remove'))
      remove.setAttribute('aria-label', t('radar.removeN', { title: e.title || String(i + 1) }))
      remove.addEventListener('click', () => { items.splice(i, 1); this.dirty = true; this.render() })
      ol.append(h('li', { class: 'radar-settings-row' }, input, remove))
    })
    const add = h('button', { type: 'button', class: 'secondary', disabled: items.length >= max }, t(which === 'sectors' ? 'radar.addSector' : 'radar.addRing'))
    add.addEventListener('click', () => {
      items.push({ id: newId().slice(0, 8), title: '' })
      this.dirty = true
      this.render()
      const inputs = this.panel.body.querySelectorAll<HTMLInputElement>(`.radar-settings-${which} input`)
      inputs[inputs.length - 1]?.focus()
    })
    return h('div', { class: `radar-settings-${which}` }, ol, add)
  }

  private render (): void {
    const save = h('button', { type: 'button' }, t('radar.save'))
    save.addEventListener('click', () => this.save())
    this.rate.oninput = () => { this.dirty = true }
    const rateField = field(h('label', {}, t('radar.rate')), this.rate)
    clear(this.panel.body)
    this.panel.body.append(
      h('h3', {}, t('radar.sectors')), this.list('sectors'),
      h('h3', {}, t('radar.rings')), h('p', { class: 'hint' }, t('radar.ringsHint')), this.list('rings'),
      h('h3', {}, t('radar.public')), h('p', { class: 'hint' }, t('radar.rateHint')), rateField,
      save, this.status)
  }

  private save (): void {
    const { ctx } = this.host
    if (!ctx.facilitator()) return
    const clean = (list: RadarEntry[]): RadarEntry[] => list.map((e, i) => ({ id: e.id, title: e.title.trim().slice(0, MAX_TITLE) || `${i + 1}` }))
    const rate = Number(this.rate.value)
    ctx.doc.transact(() => {
      const meta = metaOf(ctx.doc)
      meta.set('radar', { sectors: clean(this.sectors), rings: clean(this.rings) })
      if (this.rate.value.trim() === '') meta.delete('addsPerMinute')
      else if (Number.isFinite(rate) && rate >= 1) meta.set('addsPerMinute', Math.min(200, Math.round(rate)))
    }, LOCAL)
    this.dirty = false
    this.status.textContent = t('radar.saved')
    announce(t('radar.saved'))
  }
}

