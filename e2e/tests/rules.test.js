// The facilitation rules with stock Yjs clients (y-websocket 3.1.0): a participant's change to a
// locked note or to the board settings is reverted by the server for everyone, the author
// included, and the author keeps editing; a facilitator's changes pass.

import assert from 'node:assert/strict'

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
