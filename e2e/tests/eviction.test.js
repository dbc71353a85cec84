// With ATELIER_ROOM_IDLE_SECS=1 a board is dropped from memory shortly after its last client
// leaves; it must come back from the store identical, and again after a restart.

import assert from 'node:assert/strict'
import { e2eTest } from '../lib/harness.js'
import { allSynced, waitConverged, assertStayedConnected } from '../lib/clients.js'
import { sleep } from '../lib/util.js'

function writeContent (client, tag) {
  const notes = client.doc.getMap('notes')
  const text = client.doc.getText('text')
  for (let i = 0; i < 30; i++) {
    notes.set(`${tag}-${i}`, { x: i * 10, y: i * 20 })
    text.insert(text.length, `${tag} ${i}\n`)
  }
  notes.delete(`${tag}-3`)
  text.delete(0, 3)
  client.doc.getMap('props').set('title', `board ${tag}`)
}

async function expectIdentical (h, server, board, expected, label) {
  const c = h.client(server, board, { name: label, as: 'carol' })
  await c.synced()
  assert.deepEqual(c.json(), expected.json, `${label}: content`)
  assert.deepEqual([...c.stateVector()].sort(), [...expected.sv].sort(), `${label}: state vector`)
  c.destroy()
}

e2eTest('an evicted board reloads identical, and again after a restart', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer({ idleSecs: 1 })
  const board = await h.board(server, 'evict', ['alice', 'bob', 'carol'])
  const a = h.client(server, board, { as: 'alice' })
  const b = h.client(server, board, { as: 'bob' })
  await allSynced([a, b])
  writeContent(a, 'a')
  writeContent(b, 'b')
  await waitConverged([a, b], { what: 'alice and bob to converge', extra: (s) => s.props.title !== undefined && Object.keys(s.notes).length === 58 })
  const expected = { json: a.json(), sv: a.stateVector() }
  assertStayedConnected([a, b])
  a.destroy()
  b.destroy()

  await sleep(3000) // > idle time: the room is evicted
  await expectIdentical(h, server, board, expected, 'after eviction')

  // The reload itself must not have changed anything; evict again and check once more.
  await sleep(3000)
  await expectIdentical(h, server, board, expected, 'after a second eviction')

  const exit = await server.stop()
  assert.deepEqual(exit, { code: 0, signal: null })
  await server.start()
  await expectIdentical(h, server, board, expected, 'after restart')
})

e2eTest('edits sent right before the last client disconnects survive eviction', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer({ idleSecs: 1 })
  const board = await h.board(server, 'evict-last', ['alice', 'carol'])
  const a = h.client(server, board, { as: 'alice' })
  await a.synced()
  writeContent(a, 'a')
  const expected = { json: a.json(), sv: a.stateVector() }
  // No wait for any acknowledgement: the updates precede the close frame on the socket.
  a.destroy()

  await sleep(3000)
  await expectIdentical(h, server, board, expected, 'after eviction')
})

e2eTest('a client arriving while the board is being evicted sees everything', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer({ idleSecs: 1 })
  const board = await h.board(server, 'evict-race', ['alice', 'bob', 'carol'])
  const a = h.client(server, board, { as: 'alice' })
  await a.synced()
  writeContent(a, 'a')
  const b = h.client(server, board, { as: 'bob' })
  await b.synced()
  await waitConverged([a, b], { what: 'bob to see alice\'s edits' })
  const expected = { json: a.json(), sv: a.stateVector() }
  a.destroy()
  b.destroy()
  // Reconnect around the idle deadline, several times, so some attempts race the eviction.
  for (const delay of [900, 1000, 1100, 1200]) {
    await sleep(delay)
    await expectIdentical(h, server, board, expected, `reconnect after ${delay} ms idle`)
  }
})
