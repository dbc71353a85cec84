// Boards written through the document schema (docs/board-schema.md) by a stock Node Yjs client,
// and what a page shows of a board, for the UI tests and the UI benchmark.
//
//   await writeBoard(server, boardId, token, (doc) => addNote(doc, { x: 0, y: 0, text: 'Idée' }))
//   const v = await visibleWorld(page)      // { x, y, w, h, scale } in board units

import { randomUUID } from 'node:crypto'
import { createClient, Y } from '../../lib/clients.js'
import { waitFor } from '../../lib/util.js'

export { Y }

let zCounter = 0
/** Increasing fractional z keys (base-62 digits, see schema.ts), one per call. */
export function nextZ () {
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  let n = ++zCounter
  let out = ''
  while (n > 0) {
    out = digits[n % 62] + out
    n = Math.floor(n / 62)
  }
  // Same length keys compare like numbers; 'V' (31) keeps them in (0, 1) and above '0...'.
  return `V${out.padStart(4, '0')}`
}

/** A note as the schema has it; returns its id. */
export function addNote (doc, { x, y, w = 200, h = 160, text = '', color = 'yellow', parent = null, createdBy = 'e2e', id = randomUUID() }) {
  const note = new Y.Map()
  const ytext = new Y.Text()
  if (text) ytext.insert(0, text)
  note.set('type', 'note')
  note.set('text', ytext)
  note.set('xy', [x, y])
  note.set('wh', [w, h])
  note.set('color', color)
  note.set('z', nextZ())
  note.set('parent', parent)
  note.set('votes', new Y.Map())
  note.set('createdBy', createdBy)
  note.set('createdAt', Date.now())
  doc.getMap('notes').set(id, note)
  return id
}

/** A cluster (docs/board-schema.md, `clusters`); returns its id. */
export function addCluster (doc, { x, y, w, h, title = '', color = 'blue', createdBy = 'e2e', id = randomUUID() }) {
  const c = new Y.Map()
  const ytitle = new Y.Text()
  if (title) ytitle.insert(0, title)
  c.set('type', 'cluster')
  c.set('title', ytitle)
  c.set('xy', [x, y])
  c.set('wh', [w, h])
  c.set('color', color)
  c.set('z', nextZ())
  c.set('collapsed', false)
  c.set('createdBy', createdBy)
  c.set('createdAt', Date.now())
  doc.getMap('clusters').set(id, c)
  return id
}

/**
 * A freehand stroke (docs/board-schema.md, `strokes`): `points` are [x, y, pressure] in board
 * units; stored as the schema says (integers: tenths of a unit relative to `xy`, pressure in
 * percent). Returns its id.
 */
export function addStroke (doc, { points, color = 'black', width = 4, createdBy = 'e2e', id = randomUUID() }) {
  const s = new Y.Map()
  const [x0, y0] = points[0]
  const packed = new Y.Array()
  const flat = []
  for (const [x, y, p = 0.5] of points) flat.push(Math.round((x - x0) * 10), Math.round((y - y0) * 10), Math.round(p * 100))
  packed.push(flat)
  s.set('type', 'stroke')
  s.set('xy', [x0, y0])
  s.set('points', packed)
  s.set('color', color)
  s.set('width', width)
  s.set('pressure', true)
  s.set('z', nextZ())
  s.set('createdBy', createdBy)
  s.set('createdAt', Date.now())
  doc.getMap('strokes').set(id, s)
  return id
}

/**
 * Connects a stock client with `token`, runs `fill(doc)` in one transaction per call of
 * `batches` (or one), and waits until the server confirmed every update as committed.
 */
export async function writeBoard (server, boardId, token, fill, { batches = 1, timeout = 15_000 } = {}) {
  const client = createClient(server, boardId, { token, saved: true, name: 'writer' })
  try {
    await client.synced()
    for (let i = 0; i < batches; i++) client.doc.transact(() => fill(client.doc, i))
    await waitFor(() => client.savedClock() >= client.localClock(), { timeout, what: 'the written board to be committed' })
  } finally {
    client.destroy()
  }
}

/** The part of the board a page shows: { x, y, w, h } in board units and the scale. */
export function visibleWorld (page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('.canvas')
    const world = document.querySelector('.world')
    const m = world.style.transform.match(/translate\(([-\d.e]+)px, ([-\d.e]+)px\) scale\(([-\d.e]+)\)/)
    if (!m) throw new Error(`unexpected world transform ${world.style.transform}`)
    const [x, y, scale] = [Number(m[1]), Number(m[2]), Number(m[3])]
    return { x: -x / scale, y: -y / scale, w: canvas.clientWidth / scale, h: canvas.clientHeight / scale, scale }
  })
}

/** The centre of a world rectangle. */
export const centre = (r) => ({ x: r.x + r.w / 2, y: r.y + r.h / 2 })
