// Démarreur bienveillant (`demarreur`, docs/board-schema.md "Board kinds"): a one-hour session
// in which two agents challenge an élu's thinking with questions only, never decisions.
//
// - Every contribution is a question: the composer docked over the board ("Posez une
//   question…", Enter asks) refuses a text that is not phrased as one and offers to fix it;
//   notes written directly on the board that are not questions show "Pas une question" to
//   their author.
// - Questions are grouped into notions clés (clusters) and triaged by facilitators (cluster key
//   `status`: `explore`, `explored`, `aside`) in the "Notions clés" panel.
// - A facilitator highlights the current question (`meta.demarreur.current`); everyone sees it
//   in a banner over the board and may star it (note key `stars`, one key per participant).
// - The simplified view (for the élu on a tablet; on by default for guests with a coarse
//   pointer): large text, no drawing tools, follows the facilitator.
// - The session runs on the shared timer (default 60 minutes, `meta.demarreur.minutes`); ending
//   it (`meta.demarreur.endedAt`) opens a summary of the notions clés for everyone, to copy or
//   download as text.

import * as Y from 'yjs'
import { announce, h } from '../dom'
import { kindLabel, lang, t, type MessageKey } from '../i18n'
import { serverNow } from '../board/clock'
import { boardTopZ, settle } from '../board/operations'
import { SidePanel } from '../board/panel'
import { setButton } from '../board/timer'
import {
  clustersOf, DEFAULT_NOTE_SIZE, isCluster, isNote, makeNote, metaOf, newId, notesOf, zBetween,
  type ClusterData, type NoteData
} from '../board/schema'
import { LOCAL } from '../board/sync'
import { isQuestion, withQuestionMark } from './demarreur-question'
import type { KindHost, KindView } from '.'

/** `meta` key of the session's settings. */
export const META_DEMARREUR = 'demarreur'
/** Note key: who starred the question (`Y.Map<participantId, true>`). */
export const NOTE_STARS = 'stars'
/** Cluster key: the triage of a notion clé. */
export const CLUSTER_STATUS = 'status'
export const STATUSES = ['explore', 'explored', 'aside'] as const
export type NotionStatus = typeof STATUSES[number]
export const DEFAULT_MINUTES = 60
const MAX_MINUTES = 600
/** The colour of questions asked with the composer. */
const QUESTION_COLOR = 'blue'
const GAP = 24

export interface DemarreurSettings {
  current: string | null
  endedAt: number | null
  minutes: number
}

/** Reads `meta.demarreur` defensively (plain JSON written by facilitators). */
export function readSettings (value: unknown): DemarreurSettings {
  const v = (value !== null && typeof value === 'object' && !(value instanceof Y.AbstractType)) ? value as Record<string, unknown> : {}
  const minutes = typeof v.minutes === 'number' && Number.isFinite(v.minutes) && v.minutes >= 1 && v.minutes <= MAX_MINUTES ? Math.round(v.minutes) : DEFAULT_MINUTES
  return {
    current: typeof v.current === 'string' ? v.current : null,
    endedAt: typeof v.endedAt === 'number' && Number.isFinite(v.endedAt) ? v.endedAt : null,
    minutes
  }
}

export function statusOf (value: unknown): NotionStatus {
  return (STATUSES as readonly unknown[]).includes(value) ? value as NotionStatus : 'explore'
}

const statusLabel = (s: NotionStatus): string => t(`demarreur.status.${s}` as MessageKey)

/** Who starred a note (participant ids). */
function starsOf (note: unknown): string[] {
  if (!isNote(note)) return []
  const stars = note.get(NOTE_STARS)
  if (!(stars instanceof Y.Map)) return []
  return [...stars.entries()].filter(([, v]) => v === true).map(([k]) => k)
}

interface Notion { cluster: ClusterData, status: NotionStatus, questions: NoteData[] }

export function mountDemarreur (host: KindHost): KindView {
  const { ctx, notes, clusters } = host
  const doc = ctx.doc
  const meta = metaOf(doc)
  const me = ctx.participantId
  const cleanups: Array<() => void> = []
  const settings = (): DemarreurSettings => readSettings(meta.get(META_DEMARREUR))
  const canWriteMeta = (): boolean => ctx.facilitator() && ctx.canEdit()
  const writeSettings = (patch: Partial<DemarreurSettings>): void => {
    if (!canWriteMeta()) return
    const prev = meta.get(META_DEMARREUR)
    const base = prev !== null && typeof prev === 'object' && !(prev instanceof Y.AbstractType) ? prev as Record<string, unknown> : {}
    doc.transact(() => meta.set(META_DEMARREUR, { ...base, ...patch }), LOCAL)
  }
  const tell = (message: string): void => { ctx.tell(message) }

  // ---- the question composer -----------------------------------------------------------------
  const input = h('input', { type: 'text', class: 'demarreur-input', id: 'demarreur-input', autocomplete: 'off', enterkeyhint: 'send', maxlength: '500' })
  const askButton = h('button', { type: 'submit', class: 'tool primary demarreur-ask' })
  const flagText = h('p', { class: 'demarreur-flag-text', id: 'demarreur-flag-text' })
  const fixButton = h('button', { type: 'button', class: 'secondary demarreur-fix' })
  const rephraseButton = h('button', { type: 'button', class: 'secondary demarreur-rephrase' })
  const flagBox = h('div', { class: 'demarreur-flagbox', role: 'alert' }, flagText, h('div', { class: 'demarreur-flag-actions' }, fixButton, rephraseButton))
  flagBox.hidden = true
  const hint = h('p', { class: 'demarreur-hint', id: 'demarreur-hint' })
  const composer = h('form', { class: 'demarreur-composer canvas-control', novalidate: true },
    flagBox, h('div', { class: 'demarreur-row' }, input, askButton), hint)
  input.setAttribute('aria-describedby', 'demarreur-hint')
  host.viewport.append(composer)

  const clearFlag = (): void => {
    flagBox.hidden = true
    input.removeAttribute('aria-invalid')
    input.setAttribute('aria-describedby', 'demarreur-hint')
  }
  const showFlag = (): void => {
    flagBox.hidden = false
    input.setAttribute('aria-invalid', 'true')
    input.setAttribute('aria-describedby', 'demarreur-flag-text demarreur-hint')
  }
  /** A free spot for a new question near the centre of the view. */
  const freeSpot = (): [number, number] => {
    const [w, hh] = DEFAULT_NOTE_SIZE
    const [cx, cy] = ctx.canvas.center()
    const taken = notes.all()
    const overlaps = (x: number, y: number): boolean => taken.some((n) => x < n.x + n.w + GAP / 2 && n.x < x + w + GAP / 2 && y < n.y + n.h + GAP / 2 && n.y < y + hh + GAP / 2)
    const x0 = Math.round(cx - w / 2)
    const y0 = Math.round(cy - hh / 2)
    for (let ring = 0; ring < 12; ring++) {
      for (let dy = -ring; dy <= ring; dy++) {
        for (let dx = -ring; dx <= ring; dx++) {
          if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue
          const x = x0 + dx * (w + GAP)
          const y = y0 + dy * (hh + GAP)
          if (!overlaps(x, y)) return [x, y]
        }
      }
    }
    return [x0, y0]
  }
  const post = (text: string): boolean => {
    if (!ctx.canEdit()) { tell(t('board.readOnlyAnnounce')); return false }
    const refusal = ctx.addRefusal('notes')
    if (refusal !== null) { tell(refusal); return false }
    const [x, y] = freeSpot()
    const [w, hh] = DEFAULT_NOTE_SIZE
    if (notes.divert) {
      // A silent phase: the question stays in this participant's private document until the
      // reveal, like any new note (board/private.ts).
      notes.divert.paste([{ layer: 'notes', data: { x, y, w, h: hh, color: QUESTION_COLOR, text, z: '', parent: null } }], 0, 0)
      announce(t('demarreur.asked'))
      return true
    }
    const id = newId()
    ctx.undo.stopCapturing()
    doc.transact(() => {
      const note = makeNote({ x, y, text, color: QUESTION_COLOR, z: zBetween(boardTopZ(ctx), null), createdBy: me })
      note.set(NOTE_STARS, new Y.Map<boolean>())
      notesOf(doc).set(id, note)
      settle(ctx, [id])
    }, LOCAL)
    ctx.undo.stopCapturing()
    ctx.canvas.reveal({ x, y, w, h: hh })
    announce(t('demarreur.asked'))
    return true
  }
  composer.addEventListener('submit', (e) => {
    e.preventDefault()
    const text = input.value.trim()
    if (text === '') { tell(t('demarreur.empty')); input.focus(); return }
    if (!isQuestion(text)) {
      showFlag()
      announce(t('demarreur.notQuestion'))
      return
    }
    if (post(text)) {
      input.value = ''
      clearFlag()
    }
  })
  input.addEventListener('input', () => { if (!flagBox.hidden && isQuestion(input.value)) clearFlag() })
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !flagBox.hidden) { e.preventDefault(); clearFlag() }
    e.stopPropagation()
  })
  fixButton.addEventListener('click', () => {
    const fixed = withQuestionMark(input.value, lang())
    input.value = fixed
    if (post(fixed)) { input.value = ''; clearFlag() }
    input.focus()
  })
  rephraseButton.addEventListener('click', () => {
    clearFlag()
    input.focus()
    input.select()
  })

  // ---- the current question banner (everyone), with a star ------------------------------------
  const bannerLabel = h('span', { class: 'demarreur-banner-label' })
  const bannerText = h('p', { class: 'demarreur-banner-text' })
  const starButton = h('button', { type: 'button', class: 'tool demarreur-star', 'aria-pressed': 'false' })
  const starCount = h('span', { class: 'demarreur-star-count' })
  const banner = h('section', { class: 'banner demarreur-banner canvas-control', 'aria-live': 'polite' },
    h('div', { class: 'demarreur-banner-body' }, bannerLabel, bannerText), h('div', { class: 'demarreur-banner-star' }, starButton, starCount))
  banner.hidden = true
  host.follow.el.append(banner)

  const toggleStar = (id: string): void => {
    const note = notesOf(doc).get(id)
    if (!isNote(note)) return
    if (!ctx.canEdit()) { tell(t('board.readOnlyAnnounce')); return }
    if (ctx.lockedForMe(id)) { tell(t('lock.refused')); return }
    const had = starsOf(note).includes(me)
    doc.transact(() => {
      let stars = note.get(NOTE_STARS)
      if (!(stars instanceof Y.Map)) {
        stars = new Y.Map<boolean>()
        note.set(NOTE_STARS, stars)
      }
      const map = stars as Y.Map<boolean>
      if (had) map.delete(me)
      else map.set(me, true)
    }, LOCAL)
    announce(t(had ? 'demarreur.unstarred' : 'demarreur.starred'))
  }
  starButton.addEventListener('click', () => {
    const id = settings().current
    if (id) toggleStar(id)
  })

  // ---- toolbar: simplified view, current question, notions clés, end ---------------------------
  const simpleButton = h('button', { type: 'button', class: 'tool demarreur-simple-toggle', 'aria-pressed': 'false', 'data-tool': 'demarreur-simple' })
  const currentButton = h('button', { type: 'button', class: 'tool demarreur-set-current', 'data-tool': 'demarreur-current' })
  const endButton = h('button', { type: 'button', class: 'tool demarreur-end', 'data-tool': 'demarreur-end' })
  const notionsPanel = new SidePanel('demarreur-notions', 'demarreur.notions', 'cluster', host.panels)
  const summaryPanel = new SidePanel('demarreur-summary', 'demarreur.summaryTitle', 'agenda', host.panels)
  host.body.append(notionsPanel.el, summaryPanel.el)
  host.toolbarExtras.append(simpleButton, currentButton, notionsPanel.toggle, summaryPanel.toggle, endButton)

  currentButton.addEventListener('click', () => {
    if (!canWriteMeta()) return
    const chosen = ctx.selection.list().filter((id) => notes.get(id) !== null)
    const s = settings()
    if (chosen.length === 0) {
      if (s.current) { writeSettings({ current: null }); announce(t('demarreur.cleared')); return }
      tell(t('demarreur.pickFirst'))
      return
    }
    const id = chosen[0]
    writeSettings({ current: s.current === id ? null : id })
  })
  endButton.addEventListener('click', () => {
    if (!canWriteMeta()) return
    if (settings().endedAt !== null) {
      // Resumed: the timer runs on from where it was paused.
      doc.transact(() => {
        writeSettings({ endedAt: null })
        const left = host.timer.remaining()
        if (host.timer.state?.startedAt === null && left !== null && left > 0) host.timer.resume()
      }, LOCAL)
      return
    }
    doc.transact(() => {
      if (host.timer.state?.startedAt != null) host.timer.pause()
      writeSettings({ endedAt: serverNow() })
    }, LOCAL)
  })

  // The simplified view.
  let simple = false
  let autoLeader: string | null = null
  const coarse = window.matchMedia('(pointer: coarse)').matches && window.matchMedia('(max-width: 1366px)').matches
  const facilitatorPresent = (): string | null => {
    for (const s of host.presence.others().values()) if (s.user?.facilitator === true && s.user.id !== me) return s.user.id
    return null
  }
  // The board fits its content once first synced (pages/board.ts): following starts after that,
  // or the fit would count as our own move and stop it.
  let settled = false
  let settleTimer = 0
  const whenSettled = (): void => {
    if (settled || settleTimer || !ctx.sync.synced) return
    settleTimer = window.setTimeout(() => { settled = true; autoFollow() }, 800)
  }
  cleanups.push(ctx.sync.on(whenSettled))
  cleanups.push(() => clearTimeout(settleTimer))
  const autoFollow = (): void => {
    if (!simple || !settled || ctx.facilitator()) return
    if (autoLeader !== null) {
      // Following ended because the leader left: follow the next facilitator who comes.
      if (host.follow.following === null && host.presence.stateOf(autoLeader) === null) autoLeader = null
      else return
    }
    if (host.follow.following !== null) return
    const leader = facilitatorPresent()
    if (leader === null) return
    autoLeader = leader
    host.follow.follow(leader)
  }
  const setSimple = (on: boolean, say = true): void => {
    simple = on
    host.layout.classList.toggle('demarreur-simple', on)
    simpleButton.setAttribute('aria-pressed', String(on))
    if (on) {
      autoLeader = null
      if (composer.contains(document.activeElement)) ctx.canvas.el.focus({ preventScroll: true })
      autoFollow()
    }
    if (say) announce(t(on ? 'demarreur.simpleOn' : 'demarreur.simpleOff'))
    render()
  }
  simpleButton.addEventListener('click', () => setSimple(!simple))
  cleanups.push(host.presence.onChange(autoFollow))

  // ---- the notions clés panel ------------------------------------------------------------------
  const minutesInput = h('input', { type: 'number', min: '1', max: String(MAX_MINUTES), step: '1', id: 'demarreur-minutes', inputmode: 'numeric' })
  const minutesLabel = h('label', { for: 'demarreur-minutes' })
  const startButton = h('button', { type: 'button', class: 'secondary demarreur-start' })
  const sessionHeading = h('h3', {})
  const sessionBox = h('div', { class: 'demarreur-session' }, sessionHeading,
    h('div', { class: 'field' }, minutesLabel, h('div', { class: 'agenda-timer-row' }, minutesInput, startButton)))
  const groupButton = h('button', { type: 'button', class: 'secondary demarreur-group' })
  const notionsHint = h('p', { class: 'hint' })
  const notionsList = h('div', { class: 'demarreur-notions-list' })
  notionsPanel.body.append(sessionBox, notionsHint, groupButton, notionsList)
  minutesInput.value = String(DEFAULT_MINUTES)
  startButton.addEventListener('click', () => {
    if (!canWriteMeta()) return
    const n = Math.round(Number(minutesInput.value))
    const minutes = Number.isFinite(n) && n >= 1 && n <= MAX_MINUTES ? n : DEFAULT_MINUTES
    minutesInput.value = String(minutes)
    doc.transact(() => {
      writeSettings({ minutes, endedAt: null })
      host.timer.start(minutes * 60_000)
    }, LOCAL)
    announce(t('demarreur.started', { n: minutes }))
  })
  groupButton.addEventListener('click', () => {
    const id = clusters.groupSelection()
    if (id) announce(t('demarreur.grouped'))
  })

  const setStatus = (clusterId: string, status: NotionStatus): void => {
    if (!canWriteMeta()) { tell(t('demarreur.facilitatorOnly')); return }
    const c = clustersOf(doc).get(clusterId)
    if (!isCluster(c)) return
    if (ctx.lockedForMe(clusterId)) { tell(t('lock.refused')); return }
    ctx.undo.stopCapturing()
    doc.transact(() => c.set(CLUSTER_STATUS, status), LOCAL)
    const title = notionTitle(clusters.get(clusterId)?.title ?? '')
    announce(t('demarreur.statusChanged', { title, status: statusLabel(status) }))
  }

  const notionTitle = (title: string): string => title.trim() || t('demarreur.untitled')
  /** The notions clés (clusters in board order) with their questions, and the loose questions. */
  const gather = (): { notions: Notion[], loose: NoteData[] } => {
    const all = notes.all().filter((n) => n.text.trim() !== '')
    const byCluster = new Map<string, NoteData[]>()
    const loose: NoteData[] = []
    const known = new Set(clusters.all().map((c) => c.id))
    for (const n of all) {
      if (n.parent !== null && known.has(n.parent)) {
        const list = byCluster.get(n.parent) ?? []
        list.push(n)
        byCluster.set(n.parent, list)
      } else {
        loose.push(n)
      }
    }
    const order = (a: NoteData, b: NoteData): number => (a.y - b.y) || (a.x - b.x)
    const notions = clusters.all()
      .slice().sort((a, b) => (a.y - b.y) || (a.x - b.x))
      .map((c) => ({ cluster: c, status: statusOf(clustersOf(doc).get(c.id)?.get(CLUSTER_STATUS)), questions: (byCluster.get(c.id) ?? []).sort(order) }))
    return { notions, loose: loose.sort(order) }
  }
  const starsFor = (id: string): number => starsOf(notesOf(doc).get(id)).length

  const questionItem = (n: NoteData): HTMLElement => {
    const stars = starsFor(n.id)
    const li = h('li', { class: 'demarreur-q' }, h('span', { class: 'demarreur-q-text' }, n.text.trim()))
    if (stars > 0) li.append(h('span', { class: 'demarreur-q-stars', role: 'img', 'aria-label': t('demarreur.stars', { n: stars }) }, `★ ${stars}`))
    if (settings().current === n.id) li.classList.add('current')
    return li
  }

  const renderNotions = (): void => {
    if (!notionsPanel.open) return
    const focusedKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey
    const fac = ctx.facilitator()
    sessionBox.hidden = !fac
    groupButton.hidden = !ctx.canEdit()
    notionsHint.textContent = t('demarreur.notionsHint')
    const { notions, loose } = gather()
    const blocks: HTMLElement[] = []
    if (notions.length === 0) blocks.push(h('p', { class: 'demarreur-none' }, t('demarreur.noNotions')))
    for (const notion of notions) {
      const title = notionTitle(notion.cluster.title)
      const id = notion.cluster.id
      const headId = `demarreur-notion-${id}`
      const head = h('h3', { id: headId, class: 'demarreur-notion-title' }, title)
      const block = h('section', { class: 'demarreur-notion', 'data-status': notion.status, 'data-cluster': id, 'aria-labelledby': headId }, head)
      if (fac) {
        const select = h('select', { class: 'demarreur-status-select', 'aria-label': t('demarreur.statusLabel', { title }), 'data-focus-key': `status-${id}` })
        for (const s of STATUSES) {
          const option = h('option', { value: s }, statusLabel(s))
          if (s === notion.status) option.selected = true
          select.append(option)
        }
        select.disabled = !ctx.canEdit()
        select.addEventListener('change', () => setStatus(id, statusOf(select.value)))
        block.append(select)
      } else {
        block.append(h('p', { class: 'demarreur-status-badge', 'data-status': notion.status }, statusLabel(notion.status)))
      }
      block.append(h('p', { class: 'demarreur-count' }, t('demarreur.questions', { n: notion.questions.length })),
        h('ul', { class: 'demarreur-qs' }, ...notion.questions.map(questionItem)))
      blocks.push(block)
    }
    if (loose.length > 0) {
      blocks.push(h('section', { class: 'demarreur-notion demarreur-loose', 'aria-labelledby': 'demarreur-loose-title' },
        h('h3', { id: 'demarreur-loose-title' }, t('demarreur.loose')),
        h('ul', { class: 'demarreur-qs' }, ...loose.map(questionItem))))
    }
    notionsList.replaceChildren(...blocks)
    if (focusedKey) (notionsList.querySelector(`[data-focus-key="${CSS.escape(focusedKey)}"]`) as HTMLElement | null)?.focus({ preventScroll: true })
  }

  // ---- the summary -----------------------------------------------------------------------------
  const summaryHeading = h('p', { class: 'demarreur-summary-when' })
  const copyButton = h('button', { type: 'button', class: 'secondary demarreur-copy' })
  const downloadButton = h('button', { type: 'button', class: 'secondary demarreur-download' })
  const summaryList = h('div', { class: 'demarreur-summary-list' })
  summaryPanel.body.append(summaryHeading, h('div', { class: 'agenda-actions' }, copyButton, downloadButton), summaryList)

  const summaryText = (): string => {
    const { notions, loose } = gather()
    const s = settings()
    const lines = [`${kindLabel('demarreur')} — ${host.board().title}`]
    if (s.endedAt !== null) lines.push(t('demarreur.endedAt', { date: new Date(s.endedAt).toLocaleString(lang()) }))
    lines.push('')
    const q = (n: NoteData): string => {
      const stars = starsFor(n.id)
      return `   - ${n.text.trim().replace(/\s+/g, ' ')}${stars > 0 ? ` (★ ${stars})` : ''}`
    }
    notions.forEach((notion, i) => {
      lines.push(`${i + 1}. ${notionTitle(notion.cluster.title)} — ${statusLabel(notion.status)}`)
      for (const n of notion.questions) lines.push(q(n))
      lines.push('')
    })
    if (loose.length > 0) {
      lines.push(t('demarreur.loose'))
      for (const n of loose) lines.push(q(n))
      lines.push('')
    }
    return lines.join('\n')
  }
  copyButton.addEventListener('click', () => {
    const text = summaryText()
    navigator.clipboard.writeText(text)
      .then(() => tell(t('demarreur.copied')))
      .catch(() => tell(t('demarreur.copyFailed')))
  })
  downloadButton.addEventListener('click', () => {
    const blob = new Blob([summaryText()], { type: 'text/plain;charset=utf-8' })
    const url = URL.createObjectURL(blob)
    const safe = host.board().title.replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '') || 'seance'
    const a = h('a', { href: url, download: `synthese-${safe}.txt` })
    document.body.append(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
    announce(t('demarreur.downloaded'))
  })

  const renderSummary = (): void => {
    const s = settings()
    if (!summaryPanel.open) return
    summaryHeading.textContent = s.endedAt !== null
      ? t('demarreur.endedAt', { date: new Date(s.endedAt).toLocaleString(lang()) })
      : t('demarreur.notEnded')
    const { notions, loose } = gather()
    const blocks: HTMLElement[] = []
    for (const notion of notions) {
      const title = notionTitle(notion.cluster.title)
      const headId = `demarreur-sum-${notion.cluster.id}`
      blocks.push(h('section', { class: 'demarreur-notion', 'data-status': notion.status, 'aria-labelledby': headId },
        h('h3', { id: headId, class: 'demarreur-notion-title' }, title),
        h('p', { class: 'demarreur-status-badge', 'data-status': notion.status }, statusLabel(notion.status)),
        h('ul', { class: 'demarreur-qs' }, ...notion.questions.map(questionItem))))
    }
    if (notions.length === 0) blocks.push(h('p', { class: 'demarreur-none' }, t('demarreur.noNotions')))
    if (loose.length > 0) {
      blocks.push(h('section', { class: 'demarreur-notion demarreur-loose', 'aria-labelledby': 'demarreur-sum-loose' },
        h('h3', { id: 'demarreur-sum-loose' }, t('demarreur.loose')),
        h('ul', { class: 'demarreur-qs' }, ...loose.map(questionItem))))
    }
    summaryList.replaceChildren(...blocks)
  }

  // ---- decorations on the board ----------------------------------------------------------------
  const decorateNotes = (): void => {
    const s = settings()
    for (const n of notes.all()) {
      const el = notes.element(n.id)
      if (!el) continue
      const mine = n.createdBy === me
      const flagged = mine && n.text.trim() !== '' && !isQuestion(n.text)
      let flag = el.querySelector<HTMLElement>(':scope > .demarreur-note-flag')
      // The flag is also part of the note's description for screen readers.
      const flagId = `demarreur-flag-${n.id}`
      const described = (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter((x) => x !== '' && x !== flagId)
      if (flagged && !flag) {
        flag = h('span', { class: 'demarreur-note-flag', id: flagId, title: t('demarreur.flagTitle') }, t('demarreur.flag'))
        el.append(flag)
        el.setAttribute('aria-describedby', [...described, flagId].join(' '))
      } else if (!flagged && flag) {
        flag.remove()
        el.setAttribute('aria-describedby', described.join(' '))
      }
      el.classList.toggle('demarreur-not-question', flagged)
      el.classList.toggle('demarreur-current', s.current === n.id)
      const stars = starsFor(n.id)
      let badge = el.querySelector<HTMLElement>(':scope > .demarreur-note-stars')
      if (stars > 0) {
        if (!badge) {
          badge = h('span', { class: 'demarreur-note-stars', role: 'img' })
          el.append(badge)
        }
        const text = `★ ${stars}`
        if (badge.textContent !== text) badge.textContent = text
        badge.setAttribute('aria-label', t('demarreur.stars', { n: stars }))
        badge.classList.toggle('mine', starsOf(notesOf(doc).get(n.id)).includes(me))
      } else {
        badge?.remove()
      }
    }
  }
  const decorateClusters = (): void => {
    for (const c of clusters.all()) {
      const el = clusters.layer.querySelector<HTMLElement>(`[data-cluster-id="${CSS.escape(c.id)}"]`)
      const header = el?.querySelector<HTMLElement>('.cluster-header')
      if (!el || !header) continue
      const status = statusOf(clustersOf(doc).get(c.id)?.get(CLUSTER_STATUS))
      let badge = header.querySelector<HTMLElement>('.demarreur-cluster-status')
      if (!badge) {
        badge = h('span', { class: 'demarreur-cluster-status' })
        header.append(badge)
      }
      badge.dataset.status = status
      const label = statusLabel(status)
      if (badge.textContent !== label) badge.textContent = label
    }
  }

  let lastCurrent: string | null = null
  let lastEnded: number | null = settings().endedAt
  const renderBanner = (): void => {
    const s = settings()
    const note = s.current !== null ? notes.get(s.current) : null
    banner.hidden = note === null
    bannerLabel.textContent = t('demarreur.current')
    if (note) {
      bannerText.textContent = note.text.trim()
      const stars = starsOf(notesOf(doc).get(note.id))
      const mine = stars.includes(me)
      starButton.setAttribute('aria-pressed', String(mine))
      const label = mine ? t('demarreur.unstar') : t('demarreur.star')
      if (starButton.getAttribute('aria-label') !== label) {
        starButton.setAttribute('aria-label', label)
        starButton.title = label
        starButton.replaceChildren(h('span', { 'aria-hidden': 'true', class: 'demarreur-star-glyph' }, mine ? '★' : '☆'))
      }
      starButton.hidden = !ctx.canEdit()
      starCount.textContent = stars.length > 0 ? t('demarreur.stars', { n: stars.length }) : ''
    }
    if (s.current !== lastCurrent) {
      lastCurrent = s.current
      if (note) announce(t('demarreur.currentSaid', { text: note.text.trim() }))
    }
  }

  const render = (): void => {
    const s = settings()
    const fac = ctx.facilitator()
    const editable = ctx.canEdit()
    composer.hidden = !editable || simple || s.endedAt !== null
    currentButton.hidden = !fac
    endButton.hidden = !fac
    summaryPanel.toggle.hidden = s.endedAt === null && !fac
    const selected = ctx.selection.list().find((id) => notes.get(id) !== null) ?? null
    currentButton.setAttribute('aria-pressed', String(selected !== null && selected === s.current))
    setButton(endButton, s.endedAt !== null ? 'play' : 'stop', s.endedAt !== null ? t('demarreur.resume') : t('demarreur.end'), s.endedAt !== null ? t('demarreur.resume') : t('demarreur.end'))
    endButton.disabled = !editable
    currentButton.disabled = !editable
    renderBanner()
    decorateNotes()
    decorateClusters()
    renderNotions()
    renderSummary()
    // The session just ended (or had ended when we arrived): the summary opens for everyone.
    if (s.endedAt !== lastEnded) {
      const wasEnded = lastEnded
      lastEnded = s.endedAt
      if (s.endedAt !== null && wasEnded === null) {
        summaryPanel.show(true)
        renderSummary()
        announce(t('demarreur.ended'))
      }
    }
  }

  const relabel = (): void => {
    input.placeholder = t('demarreur.composerLabel')
    input.setAttribute('aria-label', t('demarreur.composerLabel'))
    askButton.replaceChildren(h('span', {}, t('demarreur.ask')))
    hint.textContent = t('demarreur.composerHint')
    composer.setAttribute('aria-label', t('demarreur.composerRegion'))
    flagText.textContent = t('demarreur.notQuestion')
    fixButton.textContent = t('demarreur.addMark')
    rephraseButton.textContent = t('demarreur.rephrase')
    banner.setAttribute('aria-label', t('demarreur.current'))
    setButton(simpleButton, 'view', t('demarreur.simple'), t('demarreur.simple'))
    setButton(currentButton, 'up', t('demarreur.setCurrent'), t('demarreur.setCurrentShort'))
    notionsPanel.relabel()
    summaryPanel.relabel()
    sessionHeading.textContent = t('demarreur.session')
    minutesLabel.textContent = t('demarreur.minutes')
    startButton.textContent = t('demarreur.start')
    groupButton.textContent = t('demarreur.group')
    copyButton.textContent = t('demarreur.copy')
    downloadButton.textContent = t('demarreur.download')
    for (const badge of host.layout.querySelectorAll<HTMLElement>('.demarreur-note-flag')) {
      badge.textContent = t('demarreur.flag')
      badge.title = t('demarreur.flagTitle')
    }
    render()
  }

  let frame = 0
  const schedule = (): void => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; render() }) }
  cleanups.push(notes.onChange(schedule))
  cleanups.push(clusters.onChange(schedule))
  cleanups.push(host.rules.onMetaChange(schedule))
  const onMeta = (e: Y.YMapEvent<unknown>): void => { if (e.keysChanged.has(META_DEMARREUR)) schedule() }
  meta.observe(onMeta)
  cleanups.push(() => meta.unobserve(onMeta))
  cleanups.push(ctx.selection.onChange(schedule))
  cleanups.push(notionsPanel.onToggle((open) => { if (open) renderNotions() }))
  cleanups.push(summaryPanel.onToggle((open) => { if (open) renderSummary() }))
  const onStars = (events: Array<Y.YEvent<any>>): void => {
    if (events.some((e) => e.path.length >= 1)) schedule()
  }
  notesOf(doc).observeDeep(onStars)
  cleanups.push(() => notesOf(doc).unobserveDeep(onStars))
  const onClusters = (): void => schedule()
  clustersOf(doc).observeDeep(onClusters)
  cleanups.push(() => clustersOf(doc).unobserveDeep(onClusters))

  // Guests on a tablet (the élu) start in the simplified view.
  relabel()
  if (host.session.kind === 'guest' && coarse) setSimple(true, false)
  whenSettled()
  // Arriving after the session ended: the summary is open.
  if (lastEnded !== null) summaryPanel.show(true)

  return {
    relabel,
    handleKey: (e: KeyboardEvent): boolean => {
      // "?" focuses the question composer.
      if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !composer.hidden) {
        input.focus()
        return true
      }
      return false
    },
    destroy: () => {
      cancelAnimationFrame(frame)
      for (const c of cleanups) c()
      composer.remove()
      banner.remove()
      notionsPanel.el.remove()
      summaryPanel.el.remove()
      host.layout.classList.remove('demarreur-simple')
    }
  }
}
