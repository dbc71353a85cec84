// The board's Yjs document schema: the ONE place that knows the shared types and their keys.
// Written down in docs/board-schema.md; any Yjs client (and the server's exports) reads and
// writes boards through these names. Readers ignore keys they do not know and tolerate optional
// keys that are missing, so new kinds of content arrive without migration.

import * as Y from 'yjs'

/** Version of this schema, kept in meta.schema. Additive changes do not bump it. */
export const SCHEMA_VERSION = 1

/** Top-level shared types (doc.getMap(name)). Planned ones are reserved here already. */
export const ROOT = {
  notes: 'notes',
  meta: 'meta',
  // Planned (docs/board-schema.md): same shape, one Y.Map per item, keyed by id.
  clusters: 'clusters',
  strokes: 'strokes',
  shapes: 'shapes',
  frames: 'frames',
  workshop: 'workshop'
} as const

/** Keys of doc.getMap('meta'). */
export const META = {
  schema: 'schema',
  kind: 'kind',
  // Dot voting (docs/board-schema.md, meta): the budget, whether a vote is open, whether its
  // totals are hidden while it is open.
  votesPerParticipant: 'votesPerParticipant',
  votingOpen: 'votingOpen',
  votesHidden: 'votesHidden',
  // Facilitation (docs/board-schema.md, meta): the agenda, the current phase, the shared timer.
  phases: 'phases',
  phase: 'phase',
  timer: 'timer'
} as const

/** Keys of one note (a Y.Map in doc.getMap('notes')). */
export const NOTE = {
  type: 'type',
  text: 'text',
  xy: 'xy',
  wh: 'wh',
  color: 'color',
  z: 'z',
  parent: 'parent',
  votes: 'votes',
  createdBy: 'createdBy',
  createdAt: 'createdAt'
} as const

export const NOTE_TYPE = 'note'

/** Sticky-note colours by name (stored as the name, so themes can change the shade). */
export const NOTE_COLORS = ['yellow', 'orange', 'pink', 'violet', 'blue', 'green'] as const
export type NoteColor = typeof NOTE_COLORS[number]
export const DEFAULT_NOTE_COLOR: NoteColor = 'yellow'

export const DEFAULT_NOTE_SIZE: [number, number] = [200, 160]
export const MIN_NOTE_SIZE: [number, number] = [96, 72]
export const MAX_NOTE_SIZE: [number, number] = [1200, 1200]

export type NoteMap = Y.Map<unknown>

/** A plain snapshot of a note, as the UI reads it. */
export interface NoteData {
  id: string
  text: string
  x: number
  y: number
  w: number
  h: number
  color: NoteColor
  z: string
  parent: string | null
  votes: number
  /** Dots per participant id (only positive counts). */
  votesBy: Record<string, number>
  createdBy: string
  createdAt: number
  /** Locked by a facilitator (see `LOCKED`). */
  locked: boolean
}

export function notesOf (doc: Y.Doc): Y.Map<NoteMap> {
  return doc.getMap<NoteMap>(ROOT.notes)
}

export function metaOf (doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(ROOT.meta)
}

const finite = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback)

function pair (v: unknown, fallback: [number, number]): [number, number] {
  return Array.isArray(v) && v.length >= 2 ? [finite(v[0], fallback[0]), finite(v[1], fallback[1])] : fallback
}

export function isNote (value: unknown): value is NoteMap {
  return value instanceof Y.Map && value.get(NOTE.type) === NOTE_TYPE
}

export function noteText (note: NoteMap): Y.Text | null {
  const text = note.get(NOTE.text)
  return text instanceof Y.Text ? text : null
}

/** Reads a note defensively: any client may have written it. */
export function readNote (id: string, note: NoteMap): NoteData {
  const [x, y] = pair(note.get(NOTE.xy), [0, 0])
  const [w, h] = pair(note.get(NOTE.wh), DEFAULT_NOTE_SIZE)
  const color = note.get(NOTE.color)
  const votes = note.get(NOTE.votes)
  let voteCount = 0
  const votesBy: Record<string, number> = {}
  if (votes instanceof Y.Map) {
    for (const [who, n] of votes.entries()) {
      const dots = dotCount(n)
      if (dots > 0) { votesBy[who] = dots; voteCount += dots }
    }
  }
  const z = note.get(NOTE.z)
  const parent = note.get(NOTE.parent)
  return {
    id,
    text: noteText(note)?.toString() ?? '',
    x,
    y,
    w: Math.max(MIN_NOTE_SIZE[0], w),
    h: Math.max(MIN_NOTE_SIZE[1], h),
    color: (NOTE_COLORS as readonly unknown[]).includes(color) ? color as NoteColor : DEFAULT_NOTE_COLOR,
    z: typeof z === 'string' ? z : '',
    parent: typeof parent === 'string' ? parent : null,
    votes: voteCount,
    votesBy,
    createdBy: String(note.get(NOTE.createdBy) ?? ''),
    createdAt: finite(note.get(NOTE.createdAt), 0),
    locked: isLocked(note)
  }
}

export interface NewNote {
  x: number
  y: number
  w?: number
  h?: number
  color?: NoteColor
  text?: string
  z: string
  createdBy: string
}

/** Builds a note's Y.Map (to be set into notesOf(doc) inside a transaction). */
export function makeNote (init: NewNote, now = Date.now()): NoteMap {
  const note = new Y.Map<unknown>()
  const text = new Y.Text()
  if (init.text) text.insert(0, init.text)
  note.set(NOTE.type, NOTE_TYPE)
  note.set(NOTE.text, text)
  note.set(NOTE.xy, [round(init.x), round(init.y)])
  note.set(NOTE.wh, [round(init.w ?? DEFAULT_NOTE_SIZE[0]), round(init.h ?? DEFAULT_NOTE_SIZE[1])])
  note.set(NOTE.color, init.color ?? DEFAULT_NOTE_COLOR)
  note.set(NOTE.z, init.z)
  note.set(NOTE.parent, null)
  note.set(NOTE.votes, new Y.Map<number>())
  note.set(NOTE.createdBy, init.createdBy)
  note.set(NOTE.createdAt, now)
  return note
}

/** Coordinates are stored rounded to 1/100 of a unit: smaller updates, no visible loss. */
export function round (v: number): number {
  return Math.round(v * 100) / 100
}

export function setXY (note: NoteMap, x: number, y: number): void {
  note.set(NOTE.xy, [round(x), round(y)])
}

export function setWH (note: NoteMap, w: number, h: number): void {
  note.set(NOTE.wh, [
    round(clamp(w, MIN_NOTE_SIZE[0], MAX_NOTE_SIZE[0])),
    round(clamp(h, MIN_NOTE_SIZE[1], MAX_NOTE_SIZE[1]))
  ])
}

export function clamp (v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}

/** A new id for a note (or any item): random, unguessable, no coordination needed. */
export function newId (): string {
  return crypto.randomUUID()
}

// ---- drawing: strokes, shapes, frames ---------------------------------------------------------
// docs/board-schema.md, sections `strokes`, `shapes` and `frames`.

/** Ink colours of strokes, shape outlines, arrows and labels, by name (themes pick the shade). */
export const INK_COLORS = ['black', 'blue', 'red', 'green', 'orange', 'violet'] as const
export type InkColor = typeof INK_COLORS[number]
export const DEFAULT_INK: InkColor = 'black'
/** Stroke widths offered by the UI (board units); any positive width is read. */
export const STROKE_WIDTHS = [2, 4, 8, 16] as const
export const DEFAULT_STROKE_WIDTH = 4
/** Outline width of rectangles, ellipses and arrows when the item does not say. */
export const DEFAULT_SHAPE_WIDTH = 3

/** Keys of one stroke (a Y.Map in doc.getMap('strokes')). */
export const STROKE = {
  type: 'type',
  points: 'points',
  xy: 'xy',
  color: 'color',
  width: 'width',
  pressure: 'pressure',
  z: 'z',
  createdBy: 'createdBy',
  createdAt: 'createdAt'
} as const
export const STROKE_TYPE = 'stroke'
/** Stored points are integers: tenths of a unit relative to `xy`, pressure in percent. */
export const POINT_SCALE = 10

/** Keys of one shape (a Y.Map in doc.getMap('shapes')); which apply depends on `type`. */
export const SHAPE = {
  type: 'type',
  xy: 'xy',
  wh: 'wh',
  color: 'color',
  fill: 'fill',
  width: 'width',
  text: 'text',
  from: 'from',
  to: 'to',
  asset: 'asset',
  name: 'name',
  z: 'z',
  createdBy: 'createdBy',
  createdAt: 'createdAt'
} as const
export const SHAPE_TYPES = ['rect', 'ellipse', 'label', 'arrow', 'image'] as const
export type ShapeType = typeof SHAPE_TYPES[number]

/** Keys of one frame (a Y.Map in doc.getMap('frames')). */
export const FRAME = {
  type: 'type',
  title: 'title',
  xy: 'xy',
  wh: 'wh',
  z: 'z',
  createdBy: 'createdBy',
  createdAt: 'createdAt'
} as const
export const FRAME_TYPE = 'frame'

export const MIN_SHAPE_SIZE = 8
export const MAX_SHAPE_SIZE = 20000
export const DEFAULT_LABEL_SIZE: [number, number] = [320, 64]
export const DEFAULT_FRAME_SIZE: [number, number] = [800, 600]
export const MIN_FRAME_SIZE: [number, number] = [160, 120]

export type ItemMap = Y.Map<unknown>

export function strokesOf (doc: Y.Doc): Y.Map<ItemMap> { return doc.getMap<ItemMap>(ROOT.strokes) }
export function shapesOf (doc: Y.Doc): Y.Map<ItemMap> { return doc.getMap<ItemMap>(ROOT.shapes) }
export function framesOf (doc: Y.Doc): Y.Map<ItemMap> { return doc.getMap<ItemMap>(ROOT.frames) }

/** An ink colour read defensively (unknown: the default). */
export const ink = (v: unknown): InkColor => (INK_COLORS as readonly unknown[]).includes(v) ? v as InkColor : DEFAULT_INK
/** A stroke width read defensively. */
export const strokeWidth = (v: unknown): number => clamp(positive(v, DEFAULT_STROKE_WIDTH), 0.5, 200)
const positive = (v: unknown, fallback: number): number => { const n = finite(v, fallback); return n > 0 ? n : fallback }
const zOfMap = (m: ItemMap): string => { const z = m.get('z'); return typeof z === 'string' ? z : '' }

export interface StrokeData {
  id: string
  /** Origin: the stored points are relative to it. */
  x: number
  y: number
  /** Points relative to the origin, as [dx, dy, pressure (0–1)], in board units. */
  points: Array<[number, number, number]>
  color: InkColor
  width: number
  /** Whether the pressures come from the device (a pen); otherwise renderers simulate them. */
  pressure: boolean
  z: string
}

export function isStroke (value: unknown): value is ItemMap {
  return value instanceof Y.Map && value.get(STROKE.type) === STROKE_TYPE
}

export function readStroke (id: string, m: ItemMap): StrokeData {
  const [x, y] = pair(m.get(STROKE.xy), [0, 0])
  const raw = m.get(STROKE.points)
  const flat = raw instanceof Y.Array ? raw.toArray() as unknown[] : []
  const points: Array<[number, number, number]> = []
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const px = flat[i]
    const py = flat[i + 1]
    if (typeof px !== 'number' || typeof py !== 'number' || !Number.isFinite(px) || !Number.isFinite(py)) continue
    points.push([px / POINT_SCALE, py / POINT_SCALE, clamp(finite(flat[i + 2], 50), 0, 100) / 100])
  }
  return {
    id,
    x,
    y,
    points,
    color: ink(m.get(STROKE.color)),
    width: strokeWidth(m.get(STROKE.width)),
    pressure: m.get(STROKE.pressure) === true,
    z: zOfMap(m)
  }
}

/** Packs a point (absolute board units, pressure 0–1) relative to a stroke's origin. */
export function packPoint (origin: [number, number], x: number, y: number, pressure: number): [number, number, number] {
  return [
    Math.round((x - origin[0]) * POINT_SCALE),
    Math.round((y - origin[1]) * POINT_SCALE),
    Math.round(clamp(pressure, 0, 1) * 100)
  ]
}

export interface NewStroke {
  origin: [number, number]
  color: InkColor
  width: number
  pressure: boolean
  z: string
  createdBy: string
  /** Packed points (see packPoint). */
  points?: number[]
}

export function makeStroke (init: NewStroke, now = Date.now()): ItemMap {
  const m = new Y.Map<unknown>()
  const points = new Y.Array<number>()
  if (init.points?.length) points.push(init.points)
  m.set(STROKE.type, STROKE_TYPE)
  m.set(STROKE.points, points)
  m.set(STROKE.xy, [round(init.origin[0]), round(init.origin[1])])
  m.set(STROKE.color, init.color)
  m.set(STROKE.width, init.width)
  m.set(STROKE.pressure, init.pressure)
  m.set(STROKE.z, init.z)
  m.set(STROKE.createdBy, init.createdBy)
  m.set(STROKE.createdAt, now)
  return m
}

/** One end of an arrow: attached to an item (follows it) or free. */
export type ArrowEnd = { id: string } | { xy: [number, number] }

export function readArrowEnd (v: unknown): ArrowEnd {
  if (v && typeof v === 'object') {
    const o = v as { id?: unknown, xy?: unknown }
    if (typeof o.id === 'string' && o.id !== '') return { id: o.id }
    if (Array.isArray(o.xy)) return { xy: pair(o.xy, [0, 0]) }
  }
  return { xy: [0, 0] }
}

interface ShapeBase { id: string, z: string, color: InkColor }
export interface BoxShapeData extends ShapeBase { type: 'rect' | 'ellipse', x: number, y: number, w: number, h: number, fill: InkColor | null, width: number }
export interface LabelData extends ShapeBase { type: 'label', x: number, y: number, w: number, h: number, text: string }
export interface ImageShapeData extends ShapeBase { type: 'image', x: number, y: number, w: number, h: number, asset: string, name: string }
export interface ArrowData extends ShapeBase { type: 'arrow', from: ArrowEnd, to: ArrowEnd, width: number }
export type ShapeData = BoxShapeData | LabelData | ImageShapeData | ArrowData

export function isShape (value: unknown): value is ItemMap {
  return value instanceof Y.Map && (SHAPE_TYPES as readonly unknown[]).includes(value.get(SHAPE.type))
}

export function shapeText (m: ItemMap): Y.Text | null {
  const text = m.get(SHAPE.text)
  return text instanceof Y.Text ? text : null
}

/** Reads a shape defensively; null when its type is unknown. */
export function readShape (id: string, m: ItemMap): ShapeData | null {
  const type = m.get(SHAPE.type)
  const z = zOfMap(m)
  const color = ink(m.get(SHAPE.color))
  if (type === 'arrow') {
    return { id, type, z, color, from: readArrowEnd(m.get(SHAPE.from)), to: readArrowEnd(m.get(SHAPE.to)), width: clamp(positive(m.get(SHAPE.width), DEFAULT_SHAPE_WIDTH), 0.5, 100) }
  }
  const [x, y] = pair(m.get(SHAPE.xy), [0, 0])
  const [w0, h0] = pair(m.get(SHAPE.wh), [160, 120])
  const w = clamp(w0, MIN_SHAPE_SIZE, MAX_SHAPE_SIZE)
  const h = clamp(h0, MIN_SHAPE_SIZE, MAX_SHAPE_SIZE)
  if (type === 'rect' || type === 'ellipse') {
    const fill = m.get(SHAPE.fill)
    return { id, type, z, color, x, y, w, h, fill: fill == null ? null : ink(fill), width: clamp(positive(m.get(SHAPE.width), DEFAULT_SHAPE_WIDTH), 0.5, 100) }
  }
  if (type === 'label') return { id, type, z, color, x, y, w, h, text: shapeText(m)?.toString() ?? '' }
  if (type === 'image') {
    const asset = m.get(SHAPE.asset)
    const name = m.get(SHAPE.name)
    return { id, type, z, color, x, y, w, h, asset: typeof asset === 'string' ? asset : '', name: typeof name === 'string' ? name : '' }
  }
  return null
}

/** What makeShape needs: the shape's own keys (plain values; `text` as a string). */
export type NewShape =
  | { type: 'rect' | 'ellipse', x: number, y: number, w: number, h: number, color: InkColor, fill: InkColor | null, width: number }
  | { type: 'label', x: number, y: number, w: number, h: number, color: InkColor, text?: string }
  | { type: 'image', x: number, y: number, w: number, h: number, asset: string, name: string }
  | { type: 'arrow', from: ArrowEnd, to: ArrowEnd, color: InkColor, width: number }

export function makeShape (init: NewShape & { z: string, createdBy: string }, now = Date.now()): ItemMap {
  const m = new Y.Map<unknown>()
  m.set(SHAPE.type, init.type)
  if (init.type === 'arrow') {
    m.set(SHAPE.from, roundEnd(init.from))
    m.set(SHAPE.to, roundEnd(init.to))
    m.set(SHAPE.color, init.color)
    m.set(SHAPE.width, init.width)
  } else {
    m.set(SHAPE.xy, [round(init.x), round(init.y)])
    m.set(SHAPE.wh, [round(init.w), round(init.h)])
    if (init.type === 'label') {
      const text = new Y.Text()
      if (init.text) text.insert(0, init.text)
      m.set(SHAPE.text, text)
      m.set(SHAPE.color, init.color)
    } else if (init.type === 'image') {
      m.set(SHAPE.asset, init.asset)
      m.set(SHAPE.name, init.name)
    } else {
      m.set(SHAPE.color, init.color)
      m.set(SHAPE.fill, init.fill)
      m.set(SHAPE.width, init.width)
    }
  }
  m.set(SHAPE.z, init.z)
  m.set(SHAPE.createdBy, init.createdBy)
  m.set(SHAPE.createdAt, now)
  return m
}

export function roundEnd (end: ArrowEnd): ArrowEnd {
  return 'id' in end ? { id: end.id } : { xy: [round(end.xy[0]), round(end.xy[1])] }
}

export interface FrameData { id: string, title: string, x: number, y: number, w: number, h: number, z: string }

export function isFrame (value: unknown): value is ItemMap {
  return value instanceof Y.Map && value.get(FRAME.type) === FRAME_TYPE
}

export function frameTitle (m: ItemMap): Y.Text | null {
  const title = m.get(FRAME.title)
  return title instanceof Y.Text ? title : null
}

export function readFrame (id: string, m: ItemMap): FrameData {
  const [x, y] = pair(m.get(FRAME.xy), [0, 0])
  const [w, h] = pair(m.get(FRAME.wh), DEFAULT_FRAME_SIZE)
  return {
    id,
    title: frameTitle(m)?.toString() ?? '',
    x,
    y,
    w: clamp(w, MIN_FRAME_SIZE[0], MAX_SHAPE_SIZE),
    h: clamp(h, MIN_FRAME_SIZE[1], MAX_SHAPE_SIZE),
    z: zOfMap(m)
  }
}

export function makeFrame (init: { x: number, y: number, w: number, h: number, title?: string, z: string, createdBy: string }, now = Date.now()): ItemMap {
  const m = new Y.Map<unknown>()
  const title = new Y.Text()
  if (init.title) title.insert(0, init.title)
  m.set(FRAME.type, FRAME_TYPE)
  m.set(FRAME.title, title)
  m.set(FRAME.xy, [round(init.x), round(init.y)])
  m.set(FRAME.wh, [round(init.w), round(init.h)])
  m.set(FRAME.z, init.z)
  m.set(FRAME.createdBy, init.createdBy)
  m.set(FRAME.createdAt, now)
  return m
}

// ---- z-order: fractional index strings ------------------------------------------------------
// A z key is a non-empty string of base-62 digits read as a fraction in (0, 1), compared as
// plain strings (ordinal, like JavaScript's < on ASCII). zBetween(a, b) returns a key strictly
// between two keys; null means "below everything" (a) or "above everything" (b). Ties (two
// clients picking the same key at once) are broken by the note id.

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function digit (s: string, i: number, pad: number): number {
  return i < s.length ? DIGITS.indexOf(s[i]) : pad
}

export function zBetween (a: string | null, b: string | null): string {
  const lo = a ?? ''
  const hi = b
  if (hi !== null && lo >= hi) throw new Error(`zBetween: ${lo} is not below ${hi}`)
  let out = ''
  for (let i = 0; ; i++) {
    const da = digit(lo, i, 0)
    const db = hi === null ? DIGITS.length : digit(hi, i, 0)
    if (da === db) { out += DIGITS[da]; continue }
    const mid = Math.floor((da + db) / 2)
    if (mid > da) {
      // A digit strictly between: done (never a trailing zero: mid > da >= 0).
      return out + DIGITS[mid]
    }
    // Adjacent digits: keep lo's digit and find a key above the rest of lo.
    out += DIGITS[da]
    const rest = lo.slice(i + 1)
    return out + zBetween(rest === '' ? null : rest, null)
  }
}

/** Compares two notes for stacking: by z key, then id. */
export function zCompare (a: { z: string, id: string }, b: { z: string, id: string }): number {
  if (a.z !== b.z) return a.z < b.z ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** Whether nothing can be placed below `key` (it is empty or all zeros: the fraction 0). */
export function zIsBottom (key: string): boolean {
  return /^0*$/.test(key)
}

// ---- dot voting -------------------------------------------------------------------------------
// docs/board-schema.md: `meta.votesPerParticipant`, `meta.votingOpen`, `meta.votesHidden`, and
// each note's `votes` map (participant id → their dots on that note).

export const DEFAULT_VOTES_PER_PARTICIPANT = 5
export const MAX_VOTES_PER_PARTICIPANT = 99

export interface VotingSettings {
  /** Dots each participant may place on the board. */
  budget: number
  /** Whether a vote is open (participants place and take back dots). */
  open: boolean
  /** Whether totals are hidden while the vote is open (each sees only their own dots). */
  hidden: boolean
}

/** A participant's dots on one note, read defensively (a whole number, 0 when absent). */
export function dotCount (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(Math.floor(v), MAX_VOTES_PER_PARTICIPANT) : 0
}

export function readVoting (meta: Y.Map<unknown>): VotingSettings {
  const budget = meta.get(META.votesPerParticipant)
  return {
    budget: typeof budget === 'number' && Number.isFinite(budget)
      ? clamp(Math.round(budget), 1, MAX_VOTES_PER_PARTICIPANT)
      : DEFAULT_VOTES_PER_PARTICIPANT,
    open: meta.get(META.votingOpen) === true,
    hidden: meta.get(META.votesHidden) === true
  }
}

/** A note's votes map; created (inside the caller's transaction) if a client made the note without one. */
export function noteVotes (note: NoteMap): Y.Map<number> {
  const votes = note.get(NOTE.votes)
  if (votes instanceof Y.Map) return votes as Y.Map<number>
  const fresh = new Y.Map<number>()
  note.set(NOTE.votes, fresh)
  return fresh
}

// ---- clusters ---------------------------------------------------------------------------------
// docs/board-schema.md, section `clusters`. Membership is stored on the note (`note.parent`).

export const CLUSTER = {
  type: 'type',
  title: 'title',
  xy: 'xy',
  wh: 'wh',
  color: 'color',
  z: 'z',
  collapsed: 'collapsed',
  createdBy: 'createdBy',
  createdAt: 'createdAt'
} as const
export const CLUSTER_TYPE = 'cluster'
export const DEFAULT_CLUSTER_COLOR: NoteColor = 'blue'
export const DEFAULT_CLUSTER_SIZE: [number, number] = [480, 360]
export const MIN_CLUSTER_SIZE: [number, number] = [200, 140]
export const MAX_CLUSTER_SIZE: [number, number] = [20000, 20000]

export type ClusterMap = Y.Map<unknown>

export interface ClusterData {
  id: string
  title: string
  x: number
  y: number
  w: number
  h: number
  color: NoteColor
  z: string
  createdBy: string
  createdAt: number
  /** Locked by a facilitator (see `LOCKED`). */
  locked: boolean
}

export function clustersOf (doc: Y.Doc): Y.Map<ClusterMap> {
  return doc.getMap<ClusterMap>(ROOT.clusters)
}

export function isCluster (value: unknown): value is ClusterMap {
  return value instanceof Y.Map && value.get(CLUSTER.type) === CLUSTER_TYPE
}

export function clusterTitle (cluster: ClusterMap): Y.Text | null {
  const title = cluster.get(CLUSTER.title)
  return title instanceof Y.Text ? title : null
}

/** Reads a cluster defensively: any client may have written it. */
export function readCluster (id: string, cluster: ClusterMap): ClusterData {
  const [x, y] = pair(cluster.get(CLUSTER.xy), [0, 0])
  const [w, h] = pair(cluster.get(CLUSTER.wh), DEFAULT_CLUSTER_SIZE)
  const color = cluster.get(CLUSTER.color)
  const z = cluster.get(CLUSTER.z)
  return {
    id,
    title: clusterTitle(cluster)?.toString() ?? '',
    x,
    y,
    w: clamp(w, MIN_CLUSTER_SIZE[0], MAX_CLUSTER_SIZE[0]),
    h: clamp(h, MIN_CLUSTER_SIZE[1], MAX_CLUSTER_SIZE[1]),
    color: (NOTE_COLORS as readonly unknown[]).includes(color) ? color as NoteColor : DEFAULT_CLUSTER_COLOR,
    z: typeof z === 'string' ? z : '',
    createdBy: String(cluster.get(CLUSTER.createdBy) ?? ''),
    createdAt: finite(cluster.get(CLUSTER.createdAt), 0),
    locked: isLocked(cluster)
  }
}

export interface NewCluster {
  x: number
  y: number
  w: number
  h: number
  color?: NoteColor
  title?: string
  z: string
  createdBy: string
}

/** Builds a cluster's Y.Map (to be set into clustersOf(doc) inside a transaction). */
export function makeCluster (init: NewCluster, now = Date.now()): ClusterMap {
  const cluster = new Y.Map<unknown>()
  const title = new Y.Text()
  if (init.title) title.insert(0, init.title)
  cluster.set(CLUSTER.type, CLUSTER_TYPE)
  cluster.set(CLUSTER.title, title)
  cluster.set(CLUSTER.xy, [round(init.x), round(init.y)])
  cluster.set(CLUSTER.wh, [
    round(clamp(init.w, MIN_CLUSTER_SIZE[0], MAX_CLUSTER_SIZE[0])),
    round(clamp(init.h, MIN_CLUSTER_SIZE[1], MAX_CLUSTER_SIZE[1]))
  ])
  cluster.set(CLUSTER.color, init.color ?? DEFAULT_CLUSTER_COLOR)
  cluster.set(CLUSTER.z, init.z)
  cluster.set(CLUSTER.collapsed, false)
  cluster.set(CLUSTER.createdBy, init.createdBy)
  cluster.set(CLUSTER.createdAt, now)
  return cluster
}

export function setClusterWH (cluster: ClusterMap, w: number, h: number): void {
  cluster.set(CLUSTER.wh, [
    round(clamp(w, MIN_CLUSTER_SIZE[0], MAX_CLUSTER_SIZE[0])),
    round(clamp(h, MIN_CLUSTER_SIZE[1], MAX_CLUSTER_SIZE[1]))
  ])
}

// ---- facilitation: locked items, the agenda of phases, the shared timer ---------------------
// docs/board-schema.md: `locked` on items, `meta.phases`, `meta.phase`, `meta.timer`, and
// "Facilitation rules (enforced by the server)" (server/src/sync/rules.rs).

/** The top-level maps whose items the facilitation rules cover (locks, what a phase allows). */
export const ITEM_ROOTS = ['notes', 'clusters', 'strokes', 'shapes', 'frames'] as const
export type ItemRoot = typeof ITEM_ROOTS[number]

/** An item's key (boolean): true locks it against participants; only facilitators write it. */
export const LOCKED = 'locked'

/** Whether an item's map says it is locked. */
export function isLocked (item: unknown): boolean {
  return item instanceof Y.Map && item.get(LOCKED) === true
}

/** An item's map in one of the top-level maps, or null. */
export function itemMapOf (doc: Y.Doc, root: string, id: string): ItemMap | null {
  const m = doc.getMap<unknown>(root).get(id)
  return m instanceof Y.Map ? m as ItemMap : null
}

/** Longest phase (and timer) the UI offers, in minutes. */
export const MAX_PHASE_MINUTES = 600
/** Longest phase title kept. */
export const MAX_PHASE_TITLE = 120

/** One phase of the agenda (`meta.phases`), read defensively. */
export interface Phase {
  id: string
  title: string
  /** Planned duration in minutes, or null. */
  minutes: number | null
  /** The top-level maps participants may add items to during it; null: anything. */
  allow: string[] | null
  /** Keys written by other clients, kept as they were when the agenda is rewritten. */
  extra: Record<string, unknown>
}

/** The agenda, in order; entries without a usable id (or repeating one) are skipped. */
export function readPhases (meta: Y.Map<unknown>): Phase[] {
  const raw = meta.get(META.phases)
  if (!Array.isArray(raw)) return []
  const seen = new Set<string>()
  const out: Phase[] = []
  for (const p of raw as unknown[]) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) continue
    const { id, title, minutes, allow, ...extra } = p as Record<string, unknown>
    if (typeof id !== 'string' || id === '' || seen.has(id)) continue
    seen.add(id)
    out.push({
      id,
      title: typeof title === 'string' ? title.slice(0, MAX_PHASE_TITLE) : '',
      minutes: typeof minutes === 'number' && Number.isFinite(minutes) && minutes > 0 ? Math.min(minutes, MAX_PHASE_MINUTES) : null,
      allow: Array.isArray(allow) ? allow.filter((a): a is string => typeof a === 'string') : null,
      extra
    })
  }
  return out
}

/** A phase as stored: `{id, title, minutes?, allow?}` plus the keys others wrote. */
export function phaseJSON (p: Phase): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p.extra, id: p.id, title: p.title }
  if (p.minutes !== null) out.minutes = p.minutes
  if (p.allow !== null) out.allow = [...p.allow]
  return out
}

/** The id in `meta.phase`, or null (no phase: no limit). */
export function readPhaseId (meta: Y.Map<unknown>): string | null {
  const id = meta.get(META.phase)
  return typeof id === 'string' && id !== '' ? id : null
}

/**
 * The shared timer (`meta.timer`). Times are milliseconds by the server's clock as the writing
 * client estimated it (clock.ts): `startedAt` is when it last started running (null: paused or
 * not started), `elapsedMs` what ran before that, `durationMs` the whole duration.
 */
export interface TimerState {
  durationMs: number
  startedAt: number | null
  elapsedMs: number
  /** The phase it was started for, if any (it goes when that phase ends). */
  phase: string | null
}

/** Longest timer kept (ten hours, like the longest phase). */
export const MAX_TIMER_MS = MAX_PHASE_MINUTES * 60_000

export function readTimer (meta: Y.Map<unknown>): TimerState | null {
  const raw = meta.get(META.timer)
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null
  const t = raw as Record<string, unknown>
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
  const duration = num(t.durationMs)
  if (duration === null || duration <= 0) return null
  return {
    durationMs: Math.min(duration, MAX_TIMER_MS * 2),
    startedAt: num(t.startedAt),
    elapsedMs: clamp(num(t.elapsedMs) ?? 0, 0, MAX_TIMER_MS * 2),
    phase: typeof t.phase === 'string' && t.phase !== '' ? t.phase : null
  }
}

export function timerJSON (timer: TimerState): Record<string, unknown> {
  const out: Record<string, unknown> = { durationMs: Math.round(timer.durationMs), startedAt: timer.startedAt === null ? null : Math.round(timer.startedAt), elapsedMs: Math.round(timer.elapsedMs) }
  if (timer.phase !== null) out.phase = timer.phase
  return out
}

/** Milliseconds left at `now` (server clock); negative once the time is up. */
export function timerRemaining (timer: TimerState, now: number): number {
  const running = timer.startedAt === null ? 0 : Math.max(0, now - timer.startedAt)
  return timer.durationMs - timer.elapsedMs - running
}

/**
 * A phase's optional key `private` (boolean): a silent phase. Participants' new notes go to their
 * private document (`/ws/{board_id}/mine`) until a facilitator reveals them (private.ts).
 */
export const PHASE_PRIVATE = 'private'

/** Whether a phase is silent (`private: true`). */
export function isPrivatePhase (phase: Phase): boolean {
  return phase.extra[PHASE_PRIVATE] === true
}
