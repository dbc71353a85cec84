// Presence through Yjs awareness: who is here (participant list), their live cursors with name
// and colour, which notes they have selected, what part of the board each one sees (so others
// can follow them) and the facilitator's "bring everyone here". Never stored; the server relays
// it. The layout of the state is written down in docs/board-schema.md (Presence).
//
// Local state: { user: { id, name, color, guest, facilitator? }, cursor: [x, y] | null,
//                selection: [ids], view: {x, y, w, h} | null, summon: {nonce, view} | null }

import type { Awareness } from 'y-protocols/awareness'
import { clear, h, svg } from '../dom'
import { t } from '../i18n'
import type { Rect } from './canvas'
import type { BoardContext } from './context'
import type { NotesLayer } from './notes'

export interface PresenceUser { id: string, name: string, color: string, guest: boolean, facilitator?: boolean }
/** A facilitator's call to bring everyone to `view`; a new `nonce` is a new call. */
export interface Summon { nonce: string, view: Rect }
export interface PresenceState {
  user?: PresenceUser
  cursor?: [number, number] | null
  selection?: string[]
  view?: Rect | null
  summon?: Summon | null
}

/** Dark colours that white text passes WCAG AA on (≥ 4.5:1). */
export const PARTICIPANT_COLORS = ['#b3261e', '#1d4ed8', '#047857', '#7c3aed', '#b45309', '#be185d', '#0f766e', '#4338ca', '#9a3412', '#374151']

export function colorFor (id: string): string {
  let hash = 0
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0
  return PARTICIPANT_COLORS[Math.abs(hash) % PARTICIPANT_COLORS.length]
}

const CURSOR_INTERVAL_MS = 50
/** Views are sent at most this often (a follower animates between them). */
const VIEW_INTERVAL_MS = 100
/** Participants shown in the header (fewer on a narrow screen); the others are one tap away in
 * the "+N" list. */
const inlineParticipants = (): number => window.matchMedia('(max-width: 900px)').matches ? 2 : 5

export class Presence {
  /** The participant list (header): tap someone to follow them. */
  readonly list: HTMLElement
  private readonly inline: HTMLElement
  private readonly more: HTMLButtonElement
  private readonly panel: HTMLElement
  private readonly cursors: HTMLElement
  private readonly cursorEls = new Map<number, HTMLElement>()
  private readonly awareness: Awareness
  private pendingCursor: [number, number] | null | undefined
  private cursorTimer = 0
  private lastSent = 0
  private pendingView: Rect | null | undefined
  private viewTimer = 0
  private lastViewSent = 0
  private frame = 0
  private readonly listeners = new Set<() => void>()
  private readonly onAwareness = (): void => this.schedule()
  private readonly onDocumentPointer = (e: PointerEvent): void => {
    if (!this.panel.hidden && !this.list.contains(e.target as Node)) this.setPanel(false)
  }

  /** What the participant list shows, to rebuild it only when that changes. */
  private shownList = ''
  /** The participant being followed (set by the follow module), shown pressed. */
  private followedId: string | null = null
  /** Called when someone's entry in the list is activated. */
  onPick: (userId: string) => void = () => {}

  constructor (ctx: BoardContext, private readonly notes: NotesLayer, readonly me: PresenceUser) {
    this.awareness = ctx.sync.awareness
    this.awareness.setLocalState({ user: me, cursor: null, selection: [], view: null, summon: null } satisfies PresenceState)
    this.cursors = h('div', { class: 'cursors', 'aria-hidden': 'true' })
    ctx.canvas.world.append(this.cursors)
    this.inline = h('ul', { class: 'participant-list' })
    this.more = h('button', { type: 'button', class: 'participants-more', 'aria-expanded': 'false', 'aria-controls': 'participants-panel' })
    this.panel = h('div', { class: 'participants-panel', id: 'participants-panel' })
    this.panel.hidden = true
    this.more.addEventListener('click', () => this.setPanel(this.panel.hidden))
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation()
        this.setPanel(false)
        this.more.focus()
      }
    })
    this.list = h('div', { class: 'participants', role: 'group' }, this.inline, this.more, this.panel)
    document.addEventListener('pointerdown', this.onDocumentPointer, true)
    this.awareness.on('change', this.onAwareness)
    ctx.selection.onChange(() => this.awareness.setLocalStateField('selection', ctx.selection.list()))
    this.render()
  }

  destroy (): void {
    this.awareness.off('change', this.onAwareness)
    document.removeEventListener('pointerdown', this.onDocumentPointer, true)
    clearTimeout(this.cursorTimer)
    clearTimeout(this.viewTimer)
    cancelAnimationFrame(this.frame)
    this.listeners.clear()
  }

  /** Called (once per frame at most) after anyone's presence changed. */
  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** The pointer over the board (world coordinates), or null when it left; rate-limited. */
  setCursor (point: [number, number] | null): void {
    this.pendingCursor = point ? [Math.round(point[0]), Math.round(point[1])] : null
    const wait = CURSOR_INTERVAL_MS - (performance.now() - this.lastSent)
    if (wait <= 0) this.sendCursor()
    else if (!this.cursorTimer) this.cursorTimer = window.setTimeout(() => this.sendCursor(), wait)
  }

  private sendCursor (): void {
    this.cursorTimer = 0
    if (this.pendingCursor === undefined) return
    this.lastSent = performance.now()
    this.awareness.setLocalStateField('cursor', this.pendingCursor)
    this.pendingCursor = undefined
  }

  /** The part of the board this participant sees (world units); rate-limited. */
  setView (rect: Rect | null): void {
    this.pendingView = rect && {
      x: Math.round(rect.x), y: Math.round(rect.y), w: Math.max(1, Math.round(rect.w)), h: Math.max(1, Math.round(rect.h))
    }
    const wait = VIEW_INTERVAL_MS - (performance.now() - this.lastViewSent)
    if (wait <= 0) this.sendView()
    else if (!this.viewTimer) this.viewTimer = window.setTimeout(() => this.sendView(), wait)
  }

  private sendView (): void {
    this.viewTimer = 0
    if (this.pendingView === undefined) return
    const prev = (this.awareness.getLocalState() as PresenceState | null)?.view
    const next = this.pendingView
    this.pendingView = undefined
    if (prev && next && prev.x === next.x && prev.y === next.y && prev.w === next.w && prev.h === next.h) return
    this.lastViewSent = performance.now()
    this.awareness.setLocalStateField('view', next)
  }

  /** Calls everyone to `view` (facilitators): a new nonce in our presence. */
  summon (view: Rect): void {
    const nonce = crypto.randomUUID()
    this.awareness.setLocalStateField('summon', { nonce, view: { x: Math.round(view.x), y: Math.round(view.y), w: Math.round(view.w), h: Math.round(view.h) } } satisfies Summon)
  }

  /** Marks the participant followed in the list (null: nobody). */
  setFollowing (userId: string | null): void {
    if (this.followedId === userId) return
    this.followedId = userId
    this.render()
  }

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render() })
  }

  /** Others' states, by Yjs client id (a participant may have several tabs). */
  others (): Map<number, PresenceState> {
    const out = new Map<number, PresenceState>()
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID) continue
      const s = state as PresenceState
      if (s?.user && typeof s.user.name === 'string' && typeof s.user.id === 'string') out.set(clientId, s)
    }
    return out
  }

  /** The most recently active state of a participant (their latest tab), or null if gone. */
  stateOf (userId: string): PresenceState | null {
    let best: PresenceState | null = null
    let bestAt = -1
    for (const [clientId, s] of this.others()) {
      if (s.user?.id !== userId) continue
      const at = this.awareness.meta.get(clientId)?.lastUpdated ?? 0
      if (at > bestAt) {
        best = s
        bestAt = at
      }
    }
    return best
  }

  render (): void {
    const others = this.others()
    // Cursors.
    for (const [clientId, el] of this.cursorEls) {
      const c = others.get(clientId)?.cursor
      if (!c) {
        el.remove()
        this.cursorEls.delete(clientId)
      }
    }
    const selections = new Map<string, string>()
    for (const [clientId, s] of others) {
      const user = s.user as PresenceUser
      const color = safeColor(user.color)
      for (const id of Array.isArray(s.selection) ? s.selection.slice(0, 500) : []) {
        if (typeof id === 'string') selections.set(id, color)
      }
      const c = s.cursor
      if (!Array.isArray(c) || !Number.isFinite(c[0]) || !Number.isFinite(c[1])) continue
      let el = this.cursorEls.get(clientId)
      if (!el) {
        el = h('div', { class: 'cursor', 'data-client': clientId },
          svg('svg', { viewBox: '0 0 16 20', width: 16, height: 20, class: 'cursor-arrow' },
            svg('path', { d: 'M1 1 L1 17 L5.5 12.5 L8.5 19 L11 18 L8 11.5 L14 11.5 Z', stroke: '#ffffff', 'stroke-width': 1.5 })),
          h('span', { class: 'cursor-name' }))
        this.cursors.append(el)
        this.cursorEls.set(clientId, el)
      }
      el.style.transform = `translate(${c[0]}px, ${c[1]}px) scale(var(--inv-scale, 1))`
      el.style.setProperty('--cursor-color', color)
      const name = el.querySelector('.cursor-name')
      if (name && name.textContent !== user.name) name.textContent = user.name
    }
    this.notes.showRemoteSelections(selections)
    this.renderList(others)
    for (const fn of this.listeners) fn()
  }

  private setPanel (open: boolean): void {
    this.panel.hidden = !open
    this.more.setAttribute('aria-expanded', String(open))
    if (open) this.panel.querySelector<HTMLElement>('button')?.focus()
  }

  private renderList (others: Map<number, PresenceState>): void {
    // One entry per participant, however many tabs they have open.
    const people = new Map<string, PresenceUser>()
    for (const s of others.values()) {
      const u = s.user as PresenceUser
      if (u.id !== this.me.id && !people.has(u.id)) people.set(u.id, u)
    }
    const inline = inlineParticipants()
    const signature = JSON.stringify([t('presence.you', { name: '' }), this.followedId, inline, [...people.values()]])
    if (signature === this.shownList) return
    this.shownList = signature
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.followId
    clear(this.inline)
    const all = [...people.values()]
    this.list.setAttribute('aria-label', t('presence.label', { n: all.length + 1 }))
    this.inline.append(h('li', {}, this.entry(this.me, true)))
    const shown = all.length > inline + 1 ? all.slice(0, inline) : all
    for (const u of shown) this.inline.append(h('li', {}, this.entry(u, false)))
    const rest = all.length - shown.length
    this.more.hidden = rest === 0
    // The visible "+N" starts the accessible name (WCAG 2.5.3), the rest says what it opens.
    this.more.replaceChildren(`+${rest}`, h('span', { class: 'visually-hidden' }, ` ${t('presence.more', { n: rest })}`))
    this.more.title = t('presence.more', { n: rest })
    clear(this.panel)
    if (rest === 0) this.setPanel(false)
    else {
      const list = h('ul', { 'aria-label': t('presence.label', { n: all.length + 1 }) })
      for (const u of all) list.append(h('li', {}, this.entry(u, false, true)))
      this.panel.append(list)
    }
    if (focused) this.list.querySelector<HTMLElement>(`[data-follow-id="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true })
  }

  /** One participant: oneself as text, anyone else as a button that follows them. */
  private entry (u: PresenceUser, you: boolean, inPanel = false): HTMLElement {
    // Initials drawn by the stylesheet (data-initials): not text, so a button's visible text is
    // the name alone, which its accessible name contains (WCAG 2.5.3).
    const dot = h('span', { class: 'avatar', 'aria-hidden': 'true', 'data-initials': initials(u.name) })
    dot.style.setProperty('--avatar-color', safeColor(u.color))
    const name = h('span', { class: 'participant-name' }, you ? t('presence.you', { name: u.name }) : u.name)
    const guest = u.guest ? h('span', { class: 'visually-hidden' }, ` (${t('presence.guest')})`) : null
    if (you) return h('span', { class: 'participant me', title: u.name }, dot, name, guest)
    const following = this.followedId === u.id
    const label = t('follow.start', { name: u.name })
    const button = h('button', {
      type: 'button',
      class: inPanel ? 'participant in-panel' : 'participant',
      'data-follow-id': u.id,
      'aria-pressed': String(following),
      'aria-label': u.guest ? `${label} (${t('presence.guest')})` : label,
      title: label
    }, dot, name)
    button.addEventListener('click', () => {
      if (inPanel) this.setPanel(false)
      this.onPick(u.id)
    })
    return button
  }
}

function initials (name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  return (parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : name.trim().slice(0, 2)).toUpperCase()
}

/** Colours come from other clients: only #rrggbb is used. */
export function safeColor (color: unknown): string {
  return typeof color === 'string' && /^#[0-9a-fA-F]{6}$/.test(color) ? color : '#374151'
}

/** A rectangle from another client, checked (finite, positive size), or null. */
export function safeRect (r: unknown): Rect | null {
  if (typeof r !== 'object' || r === null) return null
  const { x, y, w, h: hh } = r as Record<string, unknown>
  const ok = [x, y, w, hh].every((v) => typeof v === 'number' && Number.isFinite(v))
  return ok && (w as number) > 0 && (hh as number) > 0 ? { x: x as number, y: y as number, w: w as number, h: hh as number } : null
}
