// Presence through Yjs awareness: who is here (participant list), their live cursors with name
// and colour, and which notes they have selected. Never stored; the server relays it.
//
// Local state: { user: { id, name, color, guest }, cursor: [x, y] | null, selection: [ids] }

import type { Awareness } from 'y-protocols/awareness'
import { clear, h, svg } from '../dom'
import { t } from '../i18n'
import type { BoardContext } from './context'
import type { NotesLayer } from './notes'

export interface PresenceUser { id: string, name: string, color: string, guest: boolean }
interface PresenceState { user?: PresenceUser, cursor?: [number, number] | null, selection?: string[] }

/** Dark colours that white text passes WCAG AA on (≥ 4.5:1). */
export const PARTICIPANT_COLORS = ['#b3261e', '#1d4ed8', '#047857', '#7c3aed', '#b45309', '#be185d', '#0f766e', '#4338ca', '#9a3412', '#374151']

export function colorFor (id: string): string {
  let hash = 0
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0
  return PARTICIPANT_COLORS[Math.abs(hash) % PARTICIPANT_COLORS.length]
}

const CURSOR_INTERVAL_MS = 50

export class Presence {
  readonly list: HTMLElement
  private readonly cursors: HTMLElement
  private readonly cursorEls = new Map<number, HTMLElement>()
  private readonly awareness: Awareness
  private pendingCursor: [number, number] | null | undefined
  private cursorTimer = 0
  private lastSent = 0
  private frame = 0
  private readonly onAwareness = (): void => this.schedule()
  /** What the participant list shows, to rebuild it only when that changes. */
  private shownList = ''

  constructor (ctx: BoardContext, private readonly notes: NotesLayer, readonly me: PresenceUser) {
    this.awareness = ctx.sync.awareness
    this.awareness.setLocalState({ user: me, cursor: null, selection: [] } satisfies PresenceState)
    this.cursors = h('div', { class: 'cursors', 'aria-hidden': 'true' })
    ctx.canvas.world.append(this.cursors)
    this.list = h('ul', { class: 'participants' })
    this.awareness.on('change', this.onAwareness)
    ctx.selection.onChange(() => this.awareness.setLocalStateField('selection', ctx.selection.list()))
    this.render()
  }

  destroy (): void {
    this.awareness.off('change', this.onAwareness)
    clearTimeout(this.cursorTimer)
    cancelAnimationFrame(this.frame)
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

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render() })
  }

  /** Others' states, by Yjs client id (a participant may have several tabs). */
  private others (): Map<number, PresenceState> {
    const out = new Map<number, PresenceState>()
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID) continue
      const s = state as PresenceState
      if (s?.user && typeof s.user.name === 'string') out.set(clientId, s)
    }
    return out
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
  }

  private renderList (others: Map<number, PresenceState>): void {
    // One entry per participant, however many tabs they have open.
    const people = new Map<string, PresenceUser>()
    people.set(this.me.id, this.me)
    for (const s of others.values()) {
      const u = s.user as PresenceUser
      if (!people.has(u.id)) people.set(u.id, u)
    }
    const signature = JSON.stringify([t('presence.you', { name: '' }), [...people.values()]])
    if (signature === this.shownList) return
    this.shownList = signature
    clear(this.list)
    this.list.setAttribute('aria-label', t('presence.label', { n: people.size }))
    for (const u of people.values()) {
      const you = u.id === this.me.id
      const dot = h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(u.name))
      dot.style.setProperty('--avatar-color', safeColor(u.color))
      this.list.append(h('li', { class: 'participant', title: u.name },
        dot,
        h('span', { class: 'participant-name' }, you ? t('presence.you', { name: u.name }) : u.name),
        u.guest ? h('span', { class: 'visually-hidden' }, ` (${t('presence.guest')})`) : null))
    }
  }
}

function initials (name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  return (parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : name.trim().slice(0, 2)).toUpperCase()
}

/** Colours come from other clients: only #rrggbb is used. */
function safeColor (color: unknown): string {
  return typeof color === 'string' && /^#[0-9a-fA-F]{6}$/.test(color) ? color : '#374151'
}
