// What a client has seen survives kill -9 (the server relays only committed updates), and a
// graceful SIGTERM loses nothing.

import assert from 'node:assert/strict'
import { e2eTest } from '../lib/harness.js'
import { allSynced, stateVector, assertStayedConnected } from '../lib/clients.js'
import { sleep, waitFor, withTimeout } from '../lib/util.js'

const EDITS = 200

/** One writer edit: a note and a text append, in one transaction. */
function edit (client, i) {
  client.doc.transact(() => {
    client.doc.getMap('notes').set(`e${i}`, { x: i, y: i * 2 })
    client.doc.getText('text').insert(client.doc.getText('text').length, `${i},`)
  })
}

/** Asserts `fresh` contains at least everything in `seen` (content and state vector). */
function assertContainsSeen (fresh, seen, label) {
  for (const [key, value] of Object.entries(seen.json.notes)) {
    assert.deepEqual(fresh.json.notes[key], value, `${label}: note ${key} seen before the crash is missing or different after restart`)
  }
  assert.ok(fresh.json.text.startsWith(seen.json.text),
    `${label}: text after restart (${fresh.json.text.length} chars) does not extend the text seen before the crash (${seen.json.text.length} chars)`)
  for (const [client, clock] of seen.sv) {
    assert.ok((fresh.sv.get(client) ?? 0) >= clock,
      `${label}: client ${client} clock ${fresh.sv.get(client) ?? 0} after restart < ${clock} seen before the crash`)
  }
}

const capture = (client) => ({ json: client.json(), sv: client.stateVector() })

e2eTest('SIGKILL while a writer is editing: everything an observer saw survives', { timeout: 120_000 }, async (h) => {
  const server = h.server()
  await server.start()
  // Accounts (and their tokens) are made once; they live in the database, across the restarts.
  await h.participants(server, ['alice', 'bob', 'carol', 'dave'])
  // Kill at different points of the stream; each cycle uses its own board and restarts the
  // server on the same data dir.
  for (const killAfter of [20, 90, 170]) {
    const board = await h.board(server, `kill${killAfter}`)
    const writer = h.client(server, board, { name: `writer-${killAfter}`, as: 'alice' })
    const observer = h.client(server, board, { name: `observer-${killAfter}`, as: 'bob' })
    await allSynced([writer, observer])

    let killed = null
    const notes = observer.doc.getMap('notes')
    const onUpdate = () => {
      if (killed === null && notes.size >= killAfter) {
        killed = server.kill() // SIGKILL is sent synchronously, right now
        h.note(`cycle ${killAfter}: SIGKILL sent when the observer had ${notes.size} notes`)
      }
    }
    observer.doc.on('update', onUpdate)

    for (let i = 0; i < EDITS && killed === null; i++) {
      edit(writer, i)
      if (i % 4 === 3) await sleep(2)
    }
    await waitFor(() => killed !== null, { timeout: 15_000, what: `the observer to see ${killAfter} notes (cycle ${killAfter})` })
    const exit = await killed
    assert.equal(exit.signal, 'SIGKILL')

    // Whatever was still in flight to the observer has arrived once its socket is closed.
    await observer.waitFor((o) => !o.connected, { timeout: 5000, what: 'the observer to notice the server died' })
    const seen = capture(observer)
    assert.ok(Object.keys(seen.json.notes).length >= killAfter)
    writer.destroy()
    observer.destroy()

    await server.restart()
    const fresh = h.client(server, board, { name: `fresh-${killAfter}`, as: 'carol' })
    await fresh.synced()
    const after = capture(fresh)
    h.note(`cycle ${killAfter}: observer saw ${Object.keys(seen.json.notes).length} notes, restarted server has ${Object.keys(after.json.notes).length}`)
    assertContainsSeen(after, seen, `kill after ${killAfter}`)
    // The restored board is fully usable: a new edit round-trips.
    fresh.doc.getMap('props').set('after-crash', true)
    const other = h.client(server, board, { name: `other-${killAfter}`, as: 'dave' })
    await other.synced()
    await other.waitFor((o) => o.json().props['after-crash'] === true, { timeout: 5000, what: 'an edit after the restart' })
    fresh.destroy()
    other.destroy()
  }
})

e2eTest('graceful SIGTERM after edits: clients get 1001, exit code 0, everything present after restart', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'term', ['alice', 'bob', 'carol'])
  const writer = h.client(server, board, { name: 'writer', as: 'alice' })
  const observer = h.client(server, board, { name: 'observer', as: 'bob' })
  await allSynced([writer, observer])

  for (let i = 0; i < EDITS; i++) {
    edit(writer, i)
    if (i % 20 === 19) await sleep(1)
  }
  const written = capture(writer)
  assertStayedConnected([writer, observer])
  // Everything has left the writer's socket buffer; give the server a moment to read it, but do
  // not wait for it to be relayed: a graceful shutdown must flush what it has received.
  await waitFor(() => writer.provider.ws && writer.provider.ws.bufferedAmount === 0, {
    timeout: 5000, what: 'the writer\'s socket buffer to drain'
  })
  await sleep(200)
  // Stop reconnect attempts racing with the restart.
  writer.provider.shouldConnect = false
  observer.provider.shouldConnect = false

  const exit = await server.stop()
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM must make the server exit 0')
  for (const c of [writer, observer]) {
    await c.waitFor((c) => c.closeEvents.length > 0, { timeout: 5000, what: 'the server to close the socket' })
    assert.equal(c.closeEvents[0].code, 1001, `${c.name}: close code on shutdown (got ${JSON.stringify(c.closeEvents[0])})`)
  }
  writer.destroy()
  observer.destroy()

  await server.start()
  const fresh = h.client(server, board, { name: 'fresh', as: 'carol' })
  await fresh.synced()
  assert.deepEqual(fresh.json(), written.json, 'content after a graceful restart equals what the writer wrote')
  assert.deepEqual([...fresh.stateVector()].sort(), [...written.sv].sort(), 'state vector after restart')
})

e2eTest('SIGTERM with an idle server exits 0 promptly', { timeout: 30_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'idle', ['alice'])
  const started = Date.now()
  const exit = await withTimeout(server.stop(), 15_000, 'SIGTERM of an idle server')
  assert.deepEqual(exit, { code: 0, signal: null })
  h.note(`idle shutdown took ${Date.now() - started} ms`)
  // And it starts again on the same data dir; the board and alice's token are still there.
  await server.start()
  const c = h.client(server, board, { as: 'alice' })
  await c.synced()
  assert.equal(stateVector(c.doc).size, 0)
})
