// Three stock clients edit one board concurrently; all converge, and a late joiner gets it all.

import assert from 'node:assert/strict'
import { e2eTest } from '../lib/harness.js'
import { allSynced, waitConverged, assertStayedConnected } from '../lib/clients.js'
import { sleep, randInt } from '../lib/util.js'

const NOTE_IDS = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5']

/** One participant's burst of edits: sticky-note moves (shared ids, so they conflict), text. */
async function editLoop (client, rounds) {
  const notes = client.doc.getMap('notes')
  const text = client.doc.getText('text')
  for (let i = 0; i < rounds; i++) {
    // Several edits per round without yielding, so updates are in flight at the same time.
    notes.set(NOTE_IDS[randInt(NOTE_IDS.length)], { x: randInt(1000), y: randInt(1000), by: client.name })
    notes.set(`${client.name}-own-${i}`, { x: i, y: -i })
    text.insert(randInt(text.length + 1), `<${client.name}:${i}>`)
    client.doc.getArray('log').push([`${client.name}:${i}`])
    if (i % 5 === 4 && text.length > 10) text.delete(randInt(text.length - 5), 3)
    client.doc.transact(() => {
      notes.set(`${client.name}-tx-${i}`, { x: i, y: i })
      notes.delete(`${client.name}-own-${i - 1}`)
    })
    await sleep(randInt(6))
  }
}

e2eTest('three concurrent editors converge and a late joiner gets everything', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'conv', ['alice', 'bob', 'carol', 'dave'])
  const [a, b, c] = ['alice', 'bob', 'carol'].map((who) => h.client(server, board, { as: who }))
  await allSynced([a, b, c])

  const ROUNDS = 40
  await Promise.all([editLoop(a, ROUNDS), editLoop(b, ROUNDS), editLoop(c, ROUNDS)])

  const converged = await waitConverged([a, b, c], {
    what: 'alice, bob and carol to hold identical content and state vectors'
  })

  // Every participant's last transaction survived and nobody's edits were dropped.
  for (const who of ['alice', 'bob', 'carol']) {
    assert.deepEqual(converged.notes[`${who}-tx-${ROUNDS - 1}`], { x: ROUNDS - 1, y: ROUNDS - 1 }, `${who}'s last note`)
    for (let i = 0; i < ROUNDS; i++) {
      assert.equal(converged.log.filter((e) => e === `${who}:${i}`).length, 1, `${who}'s log entry ${i} appears exactly once`)
    }
    assert.ok(!(`${who}-own-0` in converged.notes), `${who}'s deleted note stays deleted`)
    assert.ok(`${who}-own-${ROUNDS - 1}` in converged.notes, `${who}'s last own note`)
  }
  assert.equal(converged.log.length, 3 * ROUNDS)
  // Concurrent inserts and deletes in one Y.Text: it still holds text from all three.
  for (const who of ['alice', 'bob', 'carol']) assert.ok(converged.text.includes(`<${who}:`), `some of ${who}'s text survived`)
  for (const id of NOTE_IDS) {
    // Each shared note was moved by someone (with overwhelming probability) and all agree on who won.
    if (converged.notes[id] !== undefined) assert.ok(['alice', 'bob', 'carol'].includes(converged.notes[id].by))
  }

  // All three client ids are known everywhere, with the same clocks.
  const sv = a.stateVector()
  for (const client of [a, b, c]) assert.ok(sv.get(client.clientID) > 0, `${client.name}'s client id is in the state vector`)

  // A late joiner (new principal) gets exactly the same content.
  const late = h.client(server, board, { as: 'dave' })
  await late.synced()
  await waitConverged([a, late], { what: 'the late joiner to match' })
  assert.deepEqual(late.json(), converged)

  // And its own edit still reaches everyone.
  late.doc.getMap('notes').set('late-note', { x: 7, y: 7 })
  await waitConverged([a, b, c, late], {
    what: 'the late joiner\'s edit to reach everyone',
    extra: (s) => s.notes['late-note'] !== undefined
  })
  assertStayedConnected([a, b, c, late])
})

e2eTest('content is identical whether synced live or loaded by a late joiner (Y.Text, Y.Map, nested transact)', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'conv2', ['alice', 'bob'])
  const a = h.client(server, board, { as: 'alice' })
  await a.synced()
  // Edits made before the second client exists reach the server through ordinary updates.
  for (let i = 0; i < 50; i++) {
    a.doc.getText('text').insert(a.doc.getText('text').length, `line ${i}\n`)
    a.doc.getMap('notes').set(`n${i % 7}`, { x: i, y: i * 2 })
  }
  a.doc.getMap('props').set('title', 'Workshop board')
  const b = h.client(server, board, { as: 'bob' })
  await b.synced()
  const s = await waitConverged([a, b], {
    what: 'bob to load alice\'s 101 edits',
    extra: (snap) => snap.props.title === 'Workshop board'
  })
  assert.equal(s.text.split('\n').length, 51)
  assert.deepEqual(s.notes.n6, { x: 48, y: 96 })
  assertStayedConnected([a, b])
})
