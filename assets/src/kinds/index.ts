// Board kinds: what a workshop method adds to the board (docs/board-schema.md, "Board kinds").
// The board page builds the generic board (notes, clusters, drawing, facilitation) for every
// kind, then mounts the module of the board's kind here with everything it may use. A kind's
// module owns its own DOM (panels, overlays, toolbar groups) and its own shared types; it never
// changes another module's internals.

import type { Board, BoardKind, ProjectRole } from '../api'
import type { ClustersLayer } from '../board/clusters'
import type { BoardContext } from '../board/context'
import type { FacilitationRules } from '../board/facilitation'
import type { Follow } from '../board/follow'
import type { FramesLayer } from '../board/frames'
import type { ImageStore } from '../board/images'
import type { NotesLayer } from '../board/notes'
import type { ItemOps } from '../board/operations'
import type { SidePanel } from '../board/panel'
import type { Presence } from '../board/presence'
import type { ShapesLayer } from '../board/shapes'
import type { SharedTimer } from '../board/timer'
import type { Toolbar } from '../board/toolbar'
import type { Tools } from '../board/tools'
import type { Voting } from '../board/voting'
import type { Session } from '../session'
import { mountPostit } from './postit'
import { mountMandats } from './mandats'
import { mountPrototypes } from './prototypes'
import { mountDemarreur } from './demarreur'
import { mountRadar } from './radar'
import { mountPhotolangage } from './photolangage'

/** What the board page hands to a kind's module. */
export interface KindHost {
  readonly ctx: BoardContext
  /** The board as the REST API gave it (its `kind` is authoritative). */
  readonly board: () => Board
  /** The participant's role in the board's project, or a guest role. */
  readonly role: () => ProjectRole | 'guest-editor' | 'guest-viewer'
  readonly session: Session
  readonly notes: NotesLayer
  readonly clusters: ClustersLayer
  readonly voting: Voting
  readonly frames: FramesLayer
  readonly shapes: ShapesLayer
  readonly images: ImageStore
  readonly ops: ItemOps
  readonly toolbar: Toolbar
  readonly tools: Tools
  readonly presence: Presence
  readonly follow: Follow
  readonly rules: FacilitationRules
  readonly timer: SharedTimer
  /** The page's layout (`.board-layout`): kinds may add classes (e.g. a simplified view). */
  readonly layout: HTMLElement
  /** The row holding the canvas and the side panels: kinds append their panels here. */
  readonly body: HTMLElement
  /** The canvas viewport (`.canvas`): overlays that must pan and zoom go in `ctx.canvas`. */
  readonly viewport: HTMLElement
  /** Side panels of the page (one open at a time): pass to `new SidePanel(…, panels)`. */
  readonly panels: SidePanel[]
  /** Toolbar groups shown after the generic ones (call `toolbar.build()` is not needed). */
  readonly toolbarExtras: HTMLElement
}

/** A mounted kind module. */
export interface KindView {
  /** The language changed, or the role, or the read-only state: redraw labels and controls. */
  relabel: () => void
  /** A key pressed on the board (not in a text field); true when handled. */
  handleKey?: (e: KeyboardEvent) => boolean
  destroy: () => void
}

type KindModule = (host: KindHost) => KindView

/** One entry per kind that adds something to the generic board. */
const KINDS: Partial<Record<BoardKind, KindModule>> = {
  postit: mountPostit,
  free: mountPostit,
  mandats: mountMandats,
  prototypes: mountPrototypes,
  demarreur: mountDemarreur,
  radar: mountRadar,
  photolangage: mountPhotolangage,
}

/** Mounts the module of `kind`, if it has one. */
export function mountKind (kind: BoardKind, host: KindHost): KindView | null {
  const mount = KINDS[kind]
  return mount ? mount(host) : null
}
