// Locked items (docs/board-schema.md, `locked`): facilitators lock and unlock the selection (the
// toolbar's padlock, Ctrl+Shift+L), for items of every layer; everyone sees a small padlock on
// a locked item and hears "verrouillé" in its label.
//
// For participants a locked item is part of the background: it cannot be selected (so nothing
// moves, resizes, restyles, restacks or deletes it), its text cannot be edited, it takes no
// dots, and the pointer goes through it (a finger on it pans, a double tap adds a note on top,
// as on the board itself: a locked frame or image is a template to work on). Keyboard users
// still reach it with Tab to read it; the keys that would change it say why they do nothing, and
// so does a tap on its padlock. Facilitators see the padlock and do everything. The server
// reverts any change a participant's client makes to a locked item anyway (rules.rs).
//
// The shortcut is Ctrl+Shift+L (as in the usual whiteboards): Ctrl+L is the browser's address bar.

import { announce, h } from '../dom'
import { t } from '../i18n'
import type { BoardContext } from './context'
import type { FacilitationRules } from './facilitation'
import { icon } from './icons'
import type { ButtonFactory } from './organise'
import { LOCKED } from './schema'
import { LOCAL } from './sync'

/** Keys that would change a focused item (moving, deleting, editing). */
const CHANGING_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Delete', 'Backspace', 'Enter', 'F2'])

export class Locks {
  /** The padlocks, over every item (in the world, so they follow pans and zooms). */
  readonly badges: HTMLElement
  private lockButton: HTMLButtonElement | null = null
  /** Elements marked locked (class and label), by item id. */
  private readonly decorated = new Map<string, Element>()
  private readonly badgeEls = new Map<string, HTMLElement>()
  private frame = 0
  private readonly cleanups: Array<() => void> = []

  constructor (private readonly ctx: BoardContext, private readonly rules: FacilitationRules) {
    this.badges = h('div', { class: 'lock-badges' })
    ctx.canvas.world.append(this.badges)
    // A participant does not select what is locked; a lock arriving takes it out of their selection.
    ctx.selection.setSelectable((id) => !ctx.lockedForMe(id))
    this.cleanups.push(rules.onLocksChange((ids) => this.locksChanged(ids)))
    this.cleanups.push(ctx.selection.onChange(() => { this.update(); this.schedule() }))
  }

  /** Call once every layer exists: follows their changes (positions of the padlocks). */
  watch (): void {
    for (const layer of this.ctx.layers) {
      const off = layer.onChange?.(() => this.schedule())
      if (off) this.cleanups.push(off)
    }
    this.schedule()
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    cancelAnimationFrame(this.frame)
  }

  private locksChanged (ids: string[]): void {
    const ctx = this.ctx
    ctx.selection.retain((id) => !ctx.lockedForMe(id))
    // Someone typing in an item that was just locked stops (their text so far is kept).
    const active = document.activeElement
    if (active instanceof HTMLTextAreaElement) {
      for (const id of ids) {
        if (!ctx.lockedForMe(id)) continue
        const el = ctx.layers.find((l) => l.has(id))?.element?.(id)
        if (el?.contains(active)) {
          active.blur()
          ctx.tell(t('lock.lockedWhileEditing'))
        }
      }
    }
    this.update()
    this.schedule()
  }

  // ---- locking (facilitators) --------------------------------------------------------------

  /** The selected items that exist (any layer). */
  private selected (): string[] {
    return this.ctx.selection.list().filter((id) => this.ctx.layers.some((l) => l.has(id)))
  }

  /** Whether every selected item is locked (the button then unlocks). */
  selectionLocked (): boolean {
    const ids = this.selected()
    return ids.length > 0 && ids.every((id) => this.rules.isLocked(id))
  }

  /** Locks the selection, or unlocks it when all of it is locked. One undo step. */
  toggleSelected (): void {
    const ctx = this.ctx
    if (!ctx.facilitator()) {
      ctx.tell(t('lock.facilitatorsOnly'))
      return
    }
    if (!ctx.canEdit()) {
      announce(t('board.readOnlyAnnounce'))
      return
    }
    const ids = this.selected()
    if (ids.length === 0) {
      announce(t('lock.nothingSelected'))
      return
    }
    const lock = !this.selectionLocked()
    ctx.undo.stopCapturing()
    ctx.doc.transact(() => {
      for (const id of ids) {
        const m = this.rules.itemMap(id)
        if (!m) continue
        if (lock && m.get(LOCKED) !== true) m.set(LOCKED, true)
        else if (!lock && m.has(LOCKED)) m.delete(LOCKED)
      }
    }, LOCAL)
    ctx.undo.stopCapturing()
    announce(t(lock ? 'lock.done' : 'lock.undone', { n: ids.length }))
    this.update()
  }

  /** The toolbar's padlock (facilitators only): a toggle, pressed when the selection is locked. */
  button (make: ButtonFactory): HTMLButtonElement {
    this.lockButton = make('lock', 'lock', 'lock.toggle', 'Ctrl+Shift+L', () => this.toggleSelected())
    this.update()
    return this.lockButton
  }

  update (): void {
    const b = this.lockButton
    if (!b) return
    b.hidden = !this.ctx.facilitator()
    b.disabled = !this.ctx.canEdit() || this.selected().length === 0
    b.setAttribute('aria-pressed', String(this.selectionLocked()))
  }

  /**
   * Ctrl+Shift+L locks or unlocks; for participants, keys that would change a focused locked item
   * say why nothing happens. Returns true when handled.
   */
  handleKey (e: KeyboardEvent): boolean {
    const mod = e.ctrlKey || e.metaKey
    if (mod && e.shiftKey && !e.altKey && e.key.toLowerCase() === 'l') {
      this.toggleSelected()
      return true
    }
    if (!mod && CHANGING_KEYS.has(e.key)) {
      const id = itemIdOf(e.target)
      if (id && this.ctx.lockedForMe(id)) {
        this.ctx.tell(t('lock.refused'))
        return true
      }
    }
    return false
  }

  // ---- padlocks and labels -----------------------------------------------------------------

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render() })
  }

  private render (): void {
    const locked = this.rules.lockedItems()
    const word = t('lock.locked')
    // Element classes and labels (layers re-render labels of their own: append when missing).
    for (const [id, el] of this.decorated) {
      if (locked.has(id) && el.isConnected) continue
      el.classList.remove('locked')
      const label = el.getAttribute('aria-label')
      if (label?.endsWith(`, ${word}`) && !el.classList.contains('note') && !el.classList.contains('cluster')) {
        el.setAttribute('aria-label', label.slice(0, -(word.length + 2)))
      }
      this.decorated.delete(id)
    }
    const seen = new Set<string>()
    for (const id of locked.keys()) {
      const layer = this.ctx.layers.find((l) => l.has(id))
      if (!layer) continue
      const el = layer.element?.(id) ?? null
      if (el) {
        el.classList.add('locked')
        const label = el.getAttribute('aria-label') ?? ''
        if (label !== '' && !label.includes(word)) el.setAttribute('aria-label', `${label}, ${word}`)
        this.decorated.set(id, el)
      }
      const r = layer.bounds([id])
      if (!r) continue
      seen.add(id)
      let badge = this.badgeEls.get(id)
      if (!badge) {
        badge = this.badge()
        this.badgeEls.set(id, badge)
        this.badges.append(badge)
      }
      // Anchored by its top-right corner just inside the item's, the same size at any zoom.
      const transform = `translate(${r.x + r.w}px, ${r.y}px) scale(var(--inv-scale, 1)) translate(calc(-100% - 4px), 4px)`
      if (badge.style.transform !== transform) badge.style.transform = transform
    }
    for (const [id, badge] of this.badgeEls) {
      if (seen.has(id)) continue
      badge.remove()
      this.badgeEls.delete(id)
    }
  }

  private badge (): HTMLElement {
    const b = h('div', { class: 'lock-badge canvas-control', 'aria-hidden': 'true' }, icon('lock'))
    this.relabelBadge(b)
    b.addEventListener('pointerdown', (e) => e.stopPropagation())
    b.addEventListener('click', () => this.ctx.tell(b.title))
    return b
  }

  private relabelBadge (b: HTMLElement): void {
    b.title = this.ctx.facilitator() ? t('lock.badgeFacilitator') : t('lock.badge')
  }

  /** Language or role change. */
  relabel (): void {
    // (Layers relabel their items in the new language; render() adds the word again.)
    for (const b of this.badgeEls.values()) this.relabelBadge(b)
    this.update()
    this.schedule()
  }
}

/** The id of the item an element belongs to (notes, clusters, drawn items), or null. */
export function itemIdOf (target: EventTarget | null): string | null {
  const el = (target as Element | null)?.closest?.('[data-note-id], [data-cluster-id], [data-item-id]')
  if (!(el instanceof Element)) return null
  return el.getAttribute('data-note-id') ?? el.getAttribute('data-cluster-id') ?? el.getAttribute('data-item-id')
}
