// Many clients open a board that is not loaded yet, at the same instant. If the server ever made
// two rooms for one board, some clients would not see the others' keys.

import assert from 'node:assert/strict'
import { e2eTest } from '../lib/harness.js'
import { allSynced, waitConverged, assertStayedConnected } from '../lib/clients.js'

const N = 8
/** One account per client: N different participants. */
const USERS = Array.from({ length: N }, (_, i) => `user${i}`)

function expectAllKeys (snap) {
  for (let i = 0; i < N; i++) if (snap.notes[`k${i}`] === undefined) return false
  return true
}

e2eTest(`${N} clients joining an unloaded board at the same instant all see all ${N} keys`, { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'first', [...USERS, 'late'])
  // Created in one synchronous loop: the connections hit the server together.
  const clients = []
  for (let i = 0; i < N; i++) clients.push(h.client(server, board, { name: `c${i}`, as: USERS[i] }))
  await allSynced(clients)
  for (let i = 0; i < N; i++) clients[i].doc.getMap('notes').set(`k${i}`, { x: i, y: i, by: i })

  const snap = await waitConverged(clients, { what: `all ${N} clients to hold all ${N} keys`, extra: expectAllKeys })
  assert.equal(Object.keys(snap.notes).length, N)

  // The board as stored: a fresh client sees the same.
  const late = h.client(server, board, { as: 'late' })
  await late.synced()
  await waitConverged([clients[0], late], { what: 'a late joiner to see all keys', extra: expectAllKeys })
  assertStayedConnected([...clients, late])
})

e2eTest(`${N} clients with edits made before connecting, joining an unloaded board at once, converge`, { timeout: 45_000 }, async (h) => {
  // The stock provider sends edits made while offline in its reply to the server's sync step 1,
  // so this also checks that the server starts every connection with sync step 1.
  const server = await h.startServer()
  const board = await h.board(server, 'first-offline', USERS)
  const clients = []
  for (let i = 0; i < N; i++) {
    const c = h.client(server, board, { name: `c${i}`, as: USERS[i], connect: false })
    c.doc.getMap('notes').set(`k${i}`, { x: i, y: i, by: i })
    clients.push(c)
  }
  for (const c of clients) c.provider.connect()
  await allSynced(clients)
  const snap = await waitConverged(clients, { what: `all ${N} clients to hold all ${N} offline keys`, extra: expectAllKeys })
  assert.equal(Object.keys(snap.notes).length, N)
  assertStayedConnected(clients)
})
