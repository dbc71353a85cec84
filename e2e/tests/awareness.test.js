// Presence (y-protocols awareness) through the server: relayed to everyone including the sender,
// removed for everyone when a connection goes away, and echoed often enough that the stock
// client's 30 s "no message received" watchdog never fires.

import assert from 'node:assert/strict'
import { e2eTest } from '../lib/harness.js'
import { allSynced, assertStayedConnected } from '../lib/clients.js'
import { sleep } from '../lib/util.js'

const REMOVAL_DEADLINE_MS = 3000

async function twoClients (h) {
  const server = await h.startServer()
  // carol is a late joiner in some tests: her account is made now, outside the timed part.
  const board = await h.board(server, 'aw', ['alice', 'bob', 'carol'])
  const a = h.client(server, board, { as: 'alice' })
  const b = h.client(server, board, { as: 'bob' })
  await allSynced([a, b])
  return { server, board, a, b }
}

async function aliceIsVisibleToBob (a, b, state) {
  a.awareness.setLocalState(state)
  await b.waitFor((b) => JSON.stringify(b.awareness.getStates().get(a.clientID)) === JSON.stringify(state), {
    timeout: 5000,
    what: `alice's awareness state ${JSON.stringify(state)}`
  })
}

async function expectRemovedWithin (b, a, how) {
  const started = Date.now()
  await b.waitFor((b) => !b.awareness.getStates().has(a.clientID), {
    timeout: REMOVAL_DEADLINE_MS,
    what: `alice's awareness state to be removed after ${how}`
  })
  return Date.now() - started
}

e2eTest('awareness is relayed to peers and echoed to the sender; the latest state wins', { timeout: 30_000 }, async (h) => {
  const { a, b } = await twoClients(h)
  const state = { user: { name: 'Alice', color: '#f00' }, cursor: { x: 10, y: 20 } }
  await aliceIsVisibleToBob(a, b, state)

  // The sender gets its own state back (the contract: relayed to all connections incl. sender).
  await a.waitFor((a) => a.awarenessAbout().some((e) => JSON.stringify(e.state) === JSON.stringify(state)), {
    timeout: 5000,
    what: 'the server to echo alice\'s awareness state back to alice'
  })

  // Bob's state reaches Alice too.
  b.awareness.setLocalState({ user: { name: 'Bob' } })
  await a.waitFor((a) => a.awareness.getStates().get(b.clientID)?.user?.name === 'Bob', {
    timeout: 5000, what: 'bob\'s awareness state'
  })

  // A fast stream of cursor moves: the last one must arrive (coalescing is allowed).
  for (let i = 0; i < 50; i++) {
    a.awareness.setLocalStateField('cursor', { x: i, y: i })
    if (i % 10 === 0) await sleep(5)
  }
  await b.waitFor((b) => b.awareness.getStates().get(a.clientID)?.cursor?.x === 49, {
    timeout: 5000, what: 'alice\'s last cursor position'
  })
  assertStayedConnected([a, b])
})

e2eTest('provider.destroy(): peers see the state removed within 3 s', { timeout: 30_000 }, async (h) => {
  const { a, b } = await twoClients(h)
  await aliceIsVisibleToBob(a, b, { user: { name: 'Alice' } })
  a.destroy()
  const ms = await expectRemovedWithin(b, a, 'provider.destroy()')
  h.note(`removed after ${ms} ms`)
  assert.ok(b.connected, 'bob is still connected')
  assertStayedConnected([b])
})

e2eTest('clean WebSocket close without the awareness goodbye: the server removes the state within 3 s', { timeout: 30_000 }, async (h) => {
  const { a, b } = await twoClients(h)
  await aliceIsVisibleToBob(a, b, { user: { name: 'Alice' } })
  a.closeWithoutGoodbye()
  const ms = await expectRemovedWithin(b, a, 'a close frame with no awareness goodbye')
  h.note(`removed after ${ms} ms`)
})

e2eTest('abruptly terminated socket: the server removes the state within 3 s, late joiners never see it', { timeout: 30_000 }, async (h) => {
  const { server, board, a, b } = await twoClients(h)
  await aliceIsVisibleToBob(a, b, { user: { name: 'Alice' } })
  b.awareness.setLocalState({ user: { name: 'Bob' } })
  a.terminate() // TCP socket destroyed: no awareness goodbye, no close frame
  const ms = await expectRemovedWithin(b, a, 'the socket was terminated')
  h.note(`removed after ${ms} ms`)

  const c = h.client(server, board, { as: 'carol' })
  await c.synced()
  await sleep(500)
  assert.ok(!c.awareness.getStates().has(a.clientID), 'a late joiner must not see the departed client')
  assert.ok(!c.awarenessEntries.some((e) => e.clientID === a.clientID && e.state !== null),
    'the server must not send the departed client\'s state to a late joiner')
})

e2eTest('two tabs of one participant: closing one removes only its own presence', { timeout: 30_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'aw-tabs', ['alice', 'bob'])
  // One participant, one login token, two tabs (two docs, two sockets).
  const tab1 = h.client(server, board, { as: 'alice', name: 'alice-tab1' })
  const tab2 = h.client(server, board, { as: 'alice', name: 'alice-tab2' })
  const bob = h.client(server, board, { as: 'bob' })
  await allSynced([tab1, tab2, bob])
  tab1.awareness.setLocalState({ user: { name: 'Alice' }, tab: 1 })
  tab2.awareness.setLocalState({ user: { name: 'Alice' }, tab: 2 })
  for (const [viewer, tab, n] of [[bob, tab1, 1], [bob, tab2, 2], [tab2, tab1, 1], [tab1, tab2, 2]]) {
    await viewer.waitFor((v) => v.awareness.getStates().get(tab.clientID)?.tab === n, {
      timeout: 5000, what: `${tab.name}'s presence`
    })
  }
  // tab2 has now seen (and, being a stock client, re-broadcast) tab1's entry. Closing tab2
  // abruptly must not take tab1's presence with it.
  tab2.terminate()
  await bob.waitFor((b) => !b.awareness.getStates().has(tab2.clientID), {
    timeout: REMOVAL_DEADLINE_MS, what: 'tab2\'s presence to be removed'
  })
  await sleep(1500)
  assert.equal(bob.awareness.getStates().get(tab1.clientID)?.tab, 1, 'tab1 is still connected: its presence must stay')
  assertStayedConnected([tab1, bob])
})

e2eTest('a late joiner receives the current awareness states of those already present', {
  timeout: 30_000
}, async (h) => {
  const { server, board, a } = await twoClients(h)
  a.awareness.setLocalState({ user: { name: 'Alice' } })
  await a.waitFor((a) => a.awarenessAbout().some((e) => e.state?.user?.name === 'Alice'), {
    timeout: 5000, what: 'the echo of alice\'s state (so the server has it)'
  })
  const c = h.client(server, board, { as: 'carol' })
  await c.synced()
  await c.waitFor((c) => c.awareness.getStates().get(a.clientID)?.user?.name === 'Alice', {
    timeout: 3000, what: 'alice\'s presence, without waiting for her renewal'
  })
})

e2eTest('a lone client stays connected for more than 35 s (awareness echo feeds the 30 s watchdog)', { timeout: 75_000 }, async (h) => {
  const server = await h.startServer()
  // bob joins after 36 s: his account is made now.
  const a = h.client(server, await h.board(server, 'lone', ['alice', 'bob']), { as: 'alice' })
  await a.synced()
  const connectedAt = Date.now()
  await sleep(36_000)
  assert.equal(a.statusCount('disconnected'), 0,
    `no disconnect expected; status log: ${JSON.stringify(a.statusLog.map((s) => [s.status, s.at - connectedAt]))}`)
  assert.equal(a.statusCount('connected'), 1, 'exactly one connection, no reconnect')
  assert.ok(a.connected, 'still connected')
  assert.deepEqual(a.closeEvents, [], 'the server never closed the connection')
  // The initial state and at least one 15 s renewal came back.
  const echoes = a.awarenessAbout()
  assert.ok(echoes.length >= 2, `expected ≥ 2 awareness echoes in 36 s, got ${echoes.length}`)
  // The connection still works.
  a.doc.getMap('notes').set('still-here', { x: 1, y: 1 })
  const b = h.client(server, a.boardId, { as: 'bob' })
  await b.synced()
  await b.waitFor((b) => b.json().notes['still-here'] !== undefined, { timeout: 5000, what: 'alice\'s edit after 36 s' })
})
