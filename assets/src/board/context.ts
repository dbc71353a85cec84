// What the parts of one open board share.

import type * as Y from 'yjs'
import type { Canvas } from './canvas'
import type { ItemLayer } from './items'
import type { NoteColor } from './schema'
import type { Selection } from './selection'
import type { BoardSync } from './sync'

export interface BoardContext {
  readonly doc: Y.Doc
  readonly sync: BoardSync
  readonly canvas: Canvas
  readonly selection: Selection
  readonly undo: Y.UndoManager
  /** The participant written in createdBy (user id or guest id). */
  readonly participantId: string
  /** Whether this participant may change the board now. */
  canEdit: () => boolean
  /** Every layer of items on the board (see items.ts); layers push themselves here. */
  readonly layers: ItemLayer[]
  /** Colour of the next note (the last one picked). */
  noteColor: NoteColor
  /**
   * Whether this participant facilitates the board (project facilitator or owner, tenant
   * admin): changes settings, locks items, runs phases and the timer; no lock or phase binds them.
   */
  readonly facilitator: () => boolean
  /** Whether item `id` is locked against this participant (facilitation.ts): not to be changed. */
  readonly lockedForMe: (id: string) => boolean
  /** Why this participant may not add items to the top-level map `root` now (the phase), or null. */
  readonly addRefusal: (root: string) => string | null
  /** Tells the participant something short: shown over the board for a moment and announced. */
  readonly tell: (message: string) => void
}
