// The facilitation rules with stock Yjs clients (y-websocket 3.1.0): a participant's change to a
// locked note or to the board settings is reverted by the server for everyone, the author
// included, and the author keeps editing; a facilitator's changes pass. Dot votes, stars and
// comments are keyed by participant id: a participant changes (and removes) only their own, and dots only
// while a vote is open and within the budget.

import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'

import { e2eTest } from '../lib/harness.js'
import { Y, waitConverged } from '../lib/clients.js'

function addNote (doc, id, text, { locked = false } = {}) {
  doc.transact(() => {
    const note = new Y.Map()
    doc.getMap('notes').set(id, note)
    note.set('type', 'note')
    note.set('xy', [10, 20])
    const t = new Y.Text()
    note.set('text', t)
    t.insert(0, text)
    if (locked) note.set('locked', true)
  })
}

const noteOf = (client, id) => client.doc.getMap('notes').get(id)

e2eTest('a participant\'s change to a locked note or to the settings is reverted for everyone', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'rules', ['paula'])
  await h.participants(server, ['fabienne'], { role: 'facilitator' })
  const fac = h.client(server, board, { as: 'fabienne', saved: true })
  const par = h.client(server, board, { as: 'paula', saved: true })
  await Promise.all([fac.synced(), par.synced()])

  addNote(fac.doc, 'consigne', 'Écrivez une idée par note', { locked: true })
  fac.doc.getMap('meta').set('votingOpen', true)
  await par.waitFor(() => noteOf(par, 'consigne')?.get('locked') === true, { timeout: 5000, what: 'the locked note' })

  // Moving, rewriting, unlocking and deleting the locked note; changing a setting.
  const attempts = [
    () => noteOf(par, 'consigne').set('xy', [500, 500]),
    () => noteOf(par, 'consigne').get('text').insert(0, 'PIRATÉ '),
    () => noteOf(par, 'consigne').set('locked', false),
    () => par.doc.getMap('notes').delete('consigne'),
    () => par.doc.getMap('meta').set('votingOpen', false)
  ]
  for (const [i, attempt] of attempts.entries()) {
    const denied = par.deniedCount
    attempt()
    await par.waitFor((p) => p.deniedCount > denied, { timeout: 5000, what: `attempt ${i} to be refused` })
    const s = await waitConverged([fac, par], {
      what: `attempt ${i} to be reverted for both`,
      extra: (snap) => snap.notes.consigne?.locked === true
    })
    assert.deepEqual(s.notes.consigne.xy, [10, 20], `attempt ${i}`)
    assert.equal(s.notes.consigne.text, 'Écrivez une idée par note', `attempt ${i}`)
    assert.equal(par.doc.getMap('meta').get('votingOpen'), true, `attempt ${i}`)
  }
  const reasons = par.authMessages.map((m) => String(m.reason ?? m))
  assert.ok(reasons.every((r) => r.includes('reverted')), `reasons: ${JSON.stringify(par.authMessages)}`)

  // The participant is still connected and its later edits integrate normally.
  addNote(par.doc, 'idee', 'Des bancs dans la rue')
  await waitConverged([fac, par], { what: 'the participant\'s note', extra: (s) => s.notes.idee?.text === 'Des bancs dans la rue' })
  // The facilitator may move the locked note.
  noteOf(fac, 'consigne').set('xy', [1, 2])
  const s = await waitConverged([fac, par], { what: 'the facilitator\'s move', extra: (snap) => snap.notes.consigne?.xy?.[0] === 1 })
  assert.deepEqual(s.notes.consigne.xy, [1, 2])
  assert.equal(fac.deniedCount, 0)
  assert.ok(par.connected && fac.connected, 'both stay connected')
})

// The web UI's way of creating a note's votes / stars map the first time (schema.ts noteVotes).
function subMap (client, id, key) {
  const note = noteOf(client, id)
  let map = note.get(key)
  if (!(map instanceof Y.Map)) {
    map = new Y.Map()
    note.set(key, map)
  }
  return map
}

e2eTest('dot votes: own key only, only while a vote is open, never above the budget', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'votes', ['paula'])
  const [paula] = await h.participants(server, ['paula'])
  const [fabienne] = await h.participants(server, ['fabienne'], { role: 'facilitator' })
  const fac = h.client(server, board, { as: 'fabienne', saved: true })
  const par = h.client(server, board, { as: 'paula', saved: true })
  await Promise.all([fac.synced(), par.synced()])
  const me = paula.id
  const other = fabienne.id

  for (const id of ['a', 'b', 'c']) addNote(fac.doc, id, `Idée ${id}`)
  await par.waitFor(() => noteOf(par, 'c') !== undefined, { timeout: 5000, what: 'the notes' })

  async function refused (what, reason, attempt) {
    const denied = par.deniedCount
    const before = fac.doc.getMap('notes').toJSON()
    par.doc.transact(attempt) // one update, as the web UI sends it
    await par.waitFor((p) => p.deniedCount > denied, { timeout: 5000, what: `${what} to be refused` })
    assert.match(String(par.authMessages.at(-1).reason), reason, what)
    await waitConverged([fac, par], {
      what: `${what} to be reverted for both`,
      extra: () => isDeepStrictEqual(par.doc.getMap('notes').toJSON(), before)
    })
  }
  async function accepted (what, attempt, check) {
    const denied = par.deniedCount
    par.doc.transact(attempt)
    await waitConverged([fac, par], { what, extra: check })
    assert.equal(par.deniedCount, denied, `${what}: nothing refused`)
  }
  const votes = (client, id) => noteOf(client, id).get('votes')?.toJSON() ?? {}

  // No vote open yet.
  await refused('a dot before the vote opens', /no vote is open/, () => subMap(par, 'a', 'votes').set(me, 1))

  fac.doc.getMap('meta').set('votingOpen', true)
  fac.doc.getMap('meta').set('votesPerParticipant', 3)
  await par.waitFor(() => par.doc.getMap('meta').get('votesPerParticipant') === 3, { timeout: 5000, what: 'the vote settings' })

  await accepted('two dots on a', () => subMap(par, 'a', 'votes').set(me, 2), (s) => s.notes.a?.votes?.[me] === 2)
  await accepted('one dot on b', () => subMap(par, 'b', 'votes').set(me, 1), (s) => s.notes.b?.votes?.[me] === 1)
  // The budget of 3 is spent: a fourth dot is reverted, on an existing map or a new one.
  await refused('a fourth dot on a', /no dots left/, () => subMap(par, 'a', 'votes').set(me, 3))
  await refused('a fourth dot on c', /no dots left/, () => subMap(par, 'c', 'votes').set(me, 1))
  assert.deepEqual(votes(fac, 'c'), {})

  // Someone else's dots are theirs.
  subMap(fac, 'a', 'votes').set(other, 4)
  await par.waitFor(() => votes(par, 'a')[other] === 4, { timeout: 5000, what: 'the facilitator\'s dots' })
  await refused('changing another\'s dots', /only change your own dots/, () => subMap(par, 'a', 'votes').set(other, 1))
  await refused('removing another\'s dots', /only change your own dots/, () => subMap(par, 'a', 'votes').delete(other))
  await refused('replacing a note\'s votes', /only change your own dots/, () => noteOf(par, 'a').set('votes', new Y.Map()))
  await refused('half a dot', /whole number/, () => subMap(par, 'b', 'votes').set(me, 1.5))
  // A copy carries no votes.
  await refused('a copy with votes', /carries no votes/, () => par.doc.transact(() => {
    addNote(par.doc, 'copie', 'Idée a')
    subMap(par, 'copie', 'votes').set(me, 1)
  }))

  // Moving a dot (no increase) is fine; so is taking one back.
  await accepted('moving a dot from a to c', () => par.doc.transact(() => {
    subMap(par, 'a', 'votes').set(me, 1)
    subMap(par, 'c', 'votes').set(me, 1)
  }), (s) => s.notes.c?.votes?.[me] === 1 && s.notes.a?.votes?.[me] === 1)
  await accepted('taking a dot back from b', () => subMap(par, 'b', 'votes').delete(me), (s) => s.notes.b?.votes?.[me] === undefined)

  // Undoing one's first dot on a note (Y.UndoManager, as the web UI's Ctrl+Z) removes the votes
  // map that dot created: allowed, since the map held that participant's dot alone.
  addNote(fac.doc, 'd', 'Idée d')
  await par.waitFor(() => noteOf(par, 'd') !== undefined, { timeout: 5000, what: 'note d' })
  const undo = new Y.UndoManager(par.doc.getMap('notes'), { trackedOrigins: new Set(['local']) })
  par.doc.transact(() => subMap(par, 'd', 'votes').set(me, 1), 'local')
  await waitConverged([fac, par], { what: 'the dot on d', extra: (s) => s.notes.d?.votes?.[me] === 1 })
  const denied = par.deniedCount
  undo.undo()
  await waitConverged([fac, par], { what: 'the undone dot', extra: (s) => s.notes.d !== undefined && s.notes.d.votes === undefined })
  assert.equal(par.deniedCount, denied, 'the undo is not refused')
  undo.destroy()

  // Closed: dots stay where they are.
  fac.doc.getMap('meta').set('votingOpen', false)
  await par.waitFor(() => par.doc.getMap('meta').get('votingOpen') === false, { timeout: 5000, what: 'the vote closed' })
  await refused('a dot after the vote closed', /no vote is open/, () => subMap(par, 'b', 'votes').set(me, 1))

  const s = await waitConverged([fac, par], { what: 'the final votes' })
  assert.deepEqual(s.notes.a.votes, { [me]: 1, [other]: 4 })
  assert.deepEqual(s.notes.c.votes, { [me]: 1 })
  assert.ok(par.connected && fac.connected, 'both stay connected')
  assert.equal(fac.deniedCount, 0)
})

e2eTest('stars and comments are a participant\'s own; hiding is for facilitators', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'stars', ['paula'])
  const [paula] = await h.participants(server, ['paula'])
  const [fabienne] = await h.participants(server, ['fabienne'], { role: 'facilitator' })
  const fac = h.client(server, board, { as: 'fabienne', saved: true })
  const par = h.client(server, board, { as: 'paula', saved: true })
  await Promise.all([fac.synced(), par.synced()])
  const me = paula.id
  const other = fabienne.id
  addNote(fac.doc, 'q', 'Comment venir à la mairie ?')
  fac.doc.transact(() => {
    subMap(fac, 'q', 'stars').set(other, true)
    const comments = new Y.Array()
    noteOf(fac, 'q').set('comments', comments)
    comments.push([{ id: 'k1', by: other, text: 'Source ?', at: 1 }])
  })
  await par.waitFor(() => noteOf(par, 'q')?.get('comments')?.length === 1, { timeout: 5000, what: 'the question' })

  const attempts = [
    [/only star for yourself/, () => subMap(par, 'q', 'stars').delete(other)],
    [/in your own name/, () => noteOf(par, 'q').get('comments').push([{ id: 'k2', by: other, text: 'Faux', at: 2 }])],
    [/only remove your own comments/, () => noteOf(par, 'q').get('comments').delete(0, 1)],
    [/hidden and shown by facilitators/, () => noteOf(par, 'q').set('hidden', true)]
  ]
  for (const [reason, attempt] of attempts) {
    const denied = par.deniedCount
    attempt()
    await par.waitFor((p) => p.deniedCount > denied, { timeout: 5000, what: `${reason} to be refused` })
    assert.match(String(par.authMessages.at(-1).reason), reason)
  }
  subMap(par, 'q', 'stars').set(me, true)
  noteOf(par, 'q').get('comments').push([{ id: 'k3', by: me, text: 'Vu à Nantes', at: 3 }])
  const s = await waitConverged([fac, par], {
    what: 'own star and comment',
    extra: (snap) => snap.notes.q?.comments?.length === 2 && snap.notes.q?.stars?.[me] === true
  })
  assert.deepEqual(s.notes.q.stars, { [other]: true, [me]: true })
  assert.deepEqual(s.notes.q.comments.map((c) => c.by), [other, me])
  assert.equal(s.notes.q.hidden, undefined)
  // One's own comment may be taken back.
  const deniedBefore = par.deniedCount
  noteOf(par, 'q').get('comments').delete(1, 1)
  const after = await waitConverged([fac, par], { what: 'own comment removed', extra: (snap) => snap.notes.q?.comments?.length === 1 })
  assert.deepEqual(after.notes.q.comments.map((c) => c.by), [other])
  assert.equal(par.deniedCount, deniedBefore, 'not refused')
  assert.equal(par.deniedCount, 4)
})
