// The facilitation rules as they apply to this participant, read from the board: which items a
// facilitator locked, the agenda of phases and what the current phase lets participants add.
// The server enforces the same rules (server/src/sync/rules.rs, docs/board-schema.md
// "Facilitation rules") by reverting what breaks them; the UI applies them first, so that a
// participant is told why instead of seeing their change undone, and so that it never sends an
// update mixing allowed and forbidden changes (the server would revert all of it).
//
// Facilitators (project facilitators and owners, tenant admins) are bound by none of them.

import type * as Y from 'yjs'
import { t, type MessageKey } from '../i18n'
import {
  ITEM_ROOTS, isLocked, itemMapOf, metaOf, readPhaseId, readPhases, readTimer,
  type ItemRoot, type Phase, type TimerState
} from './schema'

/** What the agenda panel offers participants to add, and the top-level maps each covers. */
export const ADD_KINDS = [
  { id: 'notes', roots: ['notes'], label: 'phase.allow.notes' },
  { id: 'clusters', roots: ['clusters'], label: 'phase.allow.clusters' },
  { id: 'drawings', roots: ['strokes', 'shapes'], label: 'phase.allow.drawings' },
  { id: 'frames', roots: ['frames'], label: 'phase.allow.frames' }
] as const satisfies ReadonlyArray<{ id: string, roots: readonly ItemRoot[], label: MessageKey }>

export type AddKind = typeof ADD_KINDS[number]['id']

/** The kind of addition a top-level map belongs to (for messages). */
export function addKindOf (root: string): typeof ADD_KINDS[number] | null {
  return ADD_KINDS.find((k) => (k.roots as readonly string[]).includes(root)) ?? null
}

type Listener = () => void

export class FacilitationRules {
  private readonly meta: Y.Map<unknown>
  /** Locked items: id → the top-level map holding it. */
  private readonly locked = new Map<string, ItemRoot>()
  private phaseList: Phase[] = []
  private phaseId: string | null = null
  private timerState: TimerState | null = null
  private readonly lockListeners = new Set<(ids: string[]) => void>()
  private readonly metaListeners = new Set<Listener>()
  private readonly cleanups: Array<() => void> = []

  /** `facilitator`: whether this participant facilitates the board (it may change with the role). */
  constructor (private readonly doc: Y.Doc, readonly facilitator: () => boolean) {
    this.meta = metaOf(doc)
    this.readMeta()
    const onMeta = (): void => {
      const before = JSON.stringify([this.phaseList, this.phaseId, this.timerState])
      this.readMeta()
      if (JSON.stringify([this.phaseList, this.phaseId, this.timerState]) !== before) {
        for (const fn of this.metaListeners) fn()
      }
    }
    this.meta.observe(onMeta)
    this.cleanups.push(() => this.meta.unobserve(onMeta))
    for (const root of ITEM_ROOTS) {
      const map = doc.getMap<unknown>(root)
      for (const [id, item] of map.entries()) if (isLocked(item)) this.locked.set(id, root)
      const observer = (events: Array<Y.YEvent<any>>): void => {
        const touched = new Set<string>()
        for (const event of events) {
          if (event.target === map) {
            for (const key of (event as Y.YMapEvent<unknown>).keysChanged) touched.add(key)
          } else if (event.path.length === 1 && (event as Y.YMapEvent<unknown>).keysChanged?.has('locked')) {
            touched.add(String(event.path[0]))
          }
        }
        const changed: string[] = []
        for (const id of touched) {
          const now = isLocked(map.get(id))
          if (now === (this.locked.get(id) === root)) continue
          if (now) this.locked.set(id, root)
          else if (this.locked.get(id) === root) this.locked.delete(id)
          changed.push(id)
        }
        if (changed.length > 0) for (const fn of this.lockListeners) fn(changed)
      }
      map.observeDeep(observer)
      this.cleanups.push(() => map.unobserveDeep(observer))
    }
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    this.lockListeners.clear()
    this.metaListeners.clear()
  }

  private readMeta (): void {
    this.phaseList = readPhases(this.meta)
    this.phaseId = readPhaseId(this.meta)
    this.timerState = readTimer(this.meta)
  }

  /** Called with the ids of items locked or unlocked (by anyone). */
  onLocksChange (fn: (ids: string[]) => void): () => void {
    this.lockListeners.add(fn)
    return () => this.lockListeners.delete(fn)
  }

  /** Called when the agenda, the current phase or the timer changes. */
  onMetaChange (fn: Listener): () => void {
    this.metaListeners.add(fn)
    return () => this.metaListeners.delete(fn)
  }

  // ---- locks -------------------------------------------------------------------------------

  isLocked (id: string): boolean { return this.locked.has(id) }

  /** Every locked item, with its top-level map. */
  lockedItems (): ReadonlyMap<string, ItemRoot> { return this.locked }

  /** Whether this participant may not change item `id`: it is locked and we do not facilitate. */
  lockedForMe (id: string): boolean {
    return this.locked.has(id) && !this.facilitator()
  }

  /** The item's map (for writing `locked`), or null. */
  itemMap (id: string): Y.Map<unknown> | null {
    const root = this.locked.get(id)
    if (root) return itemMapOf(this.doc, root, id)
    for (const r of ITEM_ROOTS) {
      const m = itemMapOf(this.doc, r, id)
      if (m) return m
    }
    return null
  }

  // ---- phases ------------------------------------------------------------------------------

  get phases (): readonly Phase[] { return this.phaseList }
  get timer (): TimerState | null { return this.timerState }

  /** The current phase and its place in the agenda, or null (no phase: no limit). */
  current (): { phase: Phase, index: number } | null {
    if (this.phaseId === null) return null
    const index = this.phaseList.findIndex((p) => p.id === this.phaseId)
    return index < 0 ? null : { phase: this.phaseList[index], index }
  }

  /** The current phase's id as stored, even when the agenda no longer lists it. */
  get currentId (): string | null { return this.phaseId }

  /** Whether the current phase lets participants add items to `root` (as the server judges). */
  phaseAllows (root: string): boolean {
    const allow = this.current()?.phase.allow ?? null
    return allow === null || allow.includes(root)
  }

  /** Why this participant may not add items to `root` now, or null when they may. */
  addRefusal (root: string): string | null {
    if (this.facilitator() || this.phaseAllows(root)) return null
    const current = this.current()
    const kind = addKindOf(root)
    return t('phase.refused', {
      what: kind ? t(`${kind.label}.what` as MessageKey) : root,
      phase: current ? phaseTitle(current.phase, current.index) : ''
    })
  }
}

/** A phase's title for people ("Phase 2" when it has none). */
export function phaseTitle (phase: Phase, index: number): string {
  return phase.title.trim() || t('phase.untitled', { n: index + 1 })
}

/**
 * Shows that a button does nothing now because of the facilitation rules (`refusal`, or null
 * when it does): `aria-disabled` rather than `disabled`, so that it stays focusable and a tap
 * or Enter says why (its own action refuses with the same message); the tooltip says it too.
 * `label` is the button's usual tooltip.
 */
export function gateButton (b: HTMLButtonElement | null | undefined, refusal: string | null, label: string): void {
  if (!b) return
  if (refusal === null) {
    if (b.getAttribute('aria-disabled') === 'true' && b.dataset.refusal !== undefined) b.removeAttribute('aria-disabled')
    delete b.dataset.refusal
    if (label) b.title = label
    return
  }
  b.setAttribute('aria-disabled', 'true')
  b.dataset.refusal = refusal
  b.title = label ? `${label} — ${refusal}` : refusal
}
