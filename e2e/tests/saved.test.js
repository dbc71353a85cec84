// The "saved" extension: a client that sent [90, 0] gets type-90 messages carrying the committed
// clock of its own client ids; a client that did not ask never gets one.

import assert from 'node:assert/strict'
import { e2eTest } from '../lib/harness.js'
import { allSynced, waitConverged, stateVector, assertStayedConnected, MESSAGE_SAVED } from '../lib/clients.js'
import { sleep } from '../lib/util.js'
import * as decoding from 'lib0/decoding'

/** Installs the brief's "fail if ever called" handler on a client that did not opt in. */
function forbidSaved (client) {
  const received = []
  client.provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
    received.push(decoding.readVarUint8Array(decoder))
  }
  return received
}

/** Records, with every saved message, the doc's own clock at the moment it arrived. */
function trackLocalClockAtReceipt (client) {
  const original = client.provider.messageHandlers[MESSAGE_SAVED]
  client.provider.messageHandlers[MESSAGE_SAVED] = (...args) => {
    original(...args)
    const last = client.savedMessages.at(-1)
    if (last && last.localClock === undefined) last.localClock = stateVector(client.doc).get(client.clientID) ?? 0
  }
}

function assertSavedWellFormed (client) {
  assert.deepEqual(client.savedErrors.map(String), [], 'malformed type-90 messages')
  let previous = 0
  for (const [i, msg] of client.savedMessages.entries()) {
    const keys = [...msg.clocks.keys()]
    assert.ok(keys.length > 0, `saved message #${i} is empty`)
    assert.deepEqual(keys, [client.clientID],
      `saved message #${i} must carry only this connection's client id ${client.clientID}, got ${JSON.stringify(keys)}`)
    const clock = msg.clocks.get(client.clientID)
    assert.ok(clock >= previous, `saved clocks must not go backwards (#${i}: ${clock} after ${previous})`)
    if (msg.localClock !== undefined) {
      assert.ok(clock <= msg.localClock, `saved message #${i} claims clock ${clock} beyond the doc's own clock ${msg.localClock}`)
    }
    previous = clock
  }
}

async function editBursts (client, tag, bursts) {
  const notes = client.doc.getMap('notes')
  const text = client.doc.getText('text')
  for (let i = 0; i < bursts; i++) {
    for (let j = 0; j < 5; j++) {
      notes.set(`${tag}-${i}-${j}`, { x: i, y: j })
      text.insert(text.length, `${tag}${i}.${j} `)
    }
    await sleep(3)
  }
}

e2eTest('an opted-in client receives saved clocks reaching its local clock; others never get type 90', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'saved', ['alice', 'bob'])
  const a = h.client(server, board, { as: 'alice', saved: true })
  const b = h.client(server, board, { as: 'bob' })
  const bGot90 = forbidSaved(b)
  trackLocalClockAtReceipt(a)
  await allSynced([a, b])

  await Promise.all([editBursts(a, 'a', 20), editBursts(b, 'b', 20)])
  const target = a.localClock()
  assert.ok(target > 0)
  await a.waitFor((a) => a.savedClock() >= target, {
    timeout: 10_000,
    what: `a saved message with clock ≥ ${target} for client ${a.clientID} (got up to ${a.savedClock()} in ${a.savedMessages.length} messages)`
  })
  assert.equal(a.savedClock(), target, 'the final saved clock equals the local clock')
  assertSavedWellFormed(a)

  // Bob, who never opted in, edited and saw everything but got no type 90.
  await waitConverged([a, b], { what: 'alice and bob to converge' })
  await sleep(500)
  assert.equal(bGot90.length, 0, `bob (not opted in) received ${bGot90.length} type-90 messages`)
  assert.equal(b.received.get(MESSAGE_SAVED) ?? 0, 0)
  assert.deepEqual(a.unknownTypes, [], 'alice received message types she has no handler for')
  assert.deepEqual(b.unknownTypes, [], 'bob received message types he has no handler for')
  assertStayedConnected([a, b])
})

e2eTest('edits made before connecting are acknowledged too (sync step 2 counts as a commit)', { timeout: 30_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'saved-offline', ['alice'])
  const a = h.client(server, board, { as: 'alice', saved: true, connect: false })
  await editBursts(a, 'offline', 4)
  const target = a.localClock()
  a.provider.connect()
  await a.synced()
  await a.waitFor((a) => a.savedClock() >= target, {
    timeout: 10_000, what: `a saved message with clock ≥ ${target} for the offline edits`
  })
  assertSavedWellFormed(a)
})

e2eTest('a saved acknowledgement means durable: SIGKILL right after it loses nothing', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'saved-kill', ['alice', 'bob'])
  const a = h.client(server, board, { as: 'alice', saved: true })
  await a.synced()
  await editBursts(a, 'a', 10)
  const target = a.localClock()
  let killed = null
  // Kill from inside the handler, the moment the acknowledgement arrives.
  const original = a.provider.messageHandlers[MESSAGE_SAVED]
  a.provider.messageHandlers[MESSAGE_SAVED] = (...args) => {
    original(...args)
    if (killed === null && a.savedClock() >= target) killed = server.kill()
  }
  if (a.savedClock() >= target) killed = server.kill() // it had already arrived
  const expected = a.json()
  await a.waitFor(() => killed !== null, { timeout: 10_000, what: `the saved acknowledgement of clock ${target}` })
  await killed
  a.provider.shouldConnect = false
  a.destroy()

  await server.start()
  const fresh = h.client(server, board, { name: 'fresh', as: 'bob' })
  await fresh.synced()
  assert.deepEqual(fresh.json(), expected)
})
