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
}
