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
  kind: 'kind'
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
  createdBy: string
  createdAt: number
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
  if (votes instanceof Y.Map) for (const n of votes.values()) voteCount += finite(n, 0)
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
    createdBy: String(note.get(NOTE.createdBy) ?? ''),
    createdAt: finite(note.get(NOTE.createdAt), 0)
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
