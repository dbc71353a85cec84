// Access control as a stock client lives it: read-only viewers, live revocation (member removed,
// role lowered, logout, operator CLI, board archived or deleted), guests invited to one board, and
// isolation between organisations. Stock clients log the server's permission-denied messages
// ("Permission denied to access …"): that output is expected here.

import assert from 'node:assert/strict'
import { e2eTest } from '../lib/harness.js'
import { Y, allSynced, assertStayedConnected, upgrade, waitConverged } from '../lib/clients.js'
import { apiCall, runAdmin } from '../lib/tenancy.js'
import { sleep, randomBoardId } from '../lib/util.js'

/** Revocation must reach a live connection within this long (README: "within 3 seconds"). */
const REVOCATION_DEADLINE_MS = 3000
/** How long a revoked client is watched for reconnect attempts. */
const NO_RECONNECT_WATCH_MS = 3000
/**
 * Out-of-process changes are found by a re-check that runs every 3 s: on top of the 3 s, allow it
 * the time to query the database and close the socket.
 */
const OUT_OF_PROCESS_SLACK_MS = 500
/** How long we wait for something that must NOT arrive (a relay takes a few ms). */
const QUIET_MS = 1000

/** An editor's edit, and a wait until `observer` has it (proves the path works). */
async function editReaches (writer, observer, key) {
  writer.doc.getMap('notes').set(key, { x: 1, y: 2, by: writer.name })
  await observer.waitFor((o) => o.json().notes[key] !== undefined, {
    timeout: 5000, what: `${writer.name}'s note ${key}`
  })
}

/** Waits until the server acknowledged (message 90) everything `client` wrote so far. */
async function committed (client) {
  const target = client.localClock()
  await client.waitFor((c) => c.savedClock() >= target, { timeout: 5000, what: `the saved acknowledgement of clock ${target}` })
}

/**
 * `client` must be closed by the server with `code` within `deadline` ms (default 3 s) of `t0`
 * (taken right before the call that revoked it), the stock provider must treat it as final (its
 * 'closed' event) and must not try to reconnect during the next 3 s.
 */
async function expectFinalClose (h, client, t0, code, { deadline = REVOCATION_DEADLINE_MS } = {}) {
  await client.waitFor((c) => c.closeEvents.length > 0, {
    timeout: Math.max(1, t0 + deadline - Date.now()),
    what: `the server to close ${client.name}'s socket within ${deadline} ms of the revocation`
  })
  const close = client.closeEvents[0]
  h.note(`${client.name} closed with ${close.code} "${close.reason}" ${close.at - t0} ms after the revocation request`)
  assert.equal(close.code, code, `${client.name}: close code (history ${client.history()})`)
  assert.deepEqual(client.finalCloses.map((c) => c.code), [code], `${client.name}: the stock provider must treat ${code} as final`)
  await sleep(NO_RECONNECT_WATCH_MS)
  assert.equal(client.statusCount('connecting', close.at), 0,
    `${client.name} tried to reconnect after ${code}: ${client.history()}`)
  assert.equal(client.statusCount('connected'), 1, `${client.name} connected more than once: ${client.history()}`)
  assert.equal(client.closeEvents.length, 1, `${client.name}: ${client.history()}`)
  assert.ok(!client.connected, `${client.name} is still connected`)
}

e2eTest('a viewer reads the board and shares presence; its edits are refused (auth message), never relayed, never stored', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'viewer', ['ed', 'fresh'])
  const [vera] = await h.participants(server, ['vera'], { role: 'viewer' })
  assert.equal(vera.role, 'viewer')

  // The editor writes the board's content first; it is committed before the viewer arrives.
  const ed = h.client(server, board, { as: 'ed', saved: true })
  await ed.synced()
  ed.doc.transact(() => {
    ed.doc.getMap('notes').set('n1', { x: 10, y: 20 })
    ed.doc.getText('text').insert(0, 'Atelier des prototypes')
    ed.doc.getMap('props').set('title', 'Idées')
  })
  await committed(ed)

  const viewer = h.client(server, board, { as: 'vera' })
  await viewer.synced()
  await waitConverged([ed, viewer], { what: 'the viewer to receive the board', extra: (s) => s.props.title === 'Idées' })

  // Presence works both ways for a viewer.
  viewer.awareness.setLocalState({ user: { name: 'Vera', role: 'viewer' } })
  await ed.waitFor((e) => e.awareness.getStates().get(viewer.clientID)?.user?.name === 'Vera', {
    timeout: 5000, what: 'the viewer\'s presence'
  })
  ed.awareness.setLocalState({ user: { name: 'Ed' } })
  await viewer.waitFor((v) => v.awareness.getStates().get(ed.clientID)?.user?.name === 'Ed', {
    timeout: 5000, what: 'the editor\'s presence at the viewer'
  })
  assert.equal(viewer.deniedCount, 0, `connecting and presence must not be refused: ${viewer.history()}`)

  // The viewer edits locally: the server answers with permission denied and relays nothing.
  viewer.doc.transact(() => {
    viewer.doc.getMap('notes').set('by-viewer', { x: 666, y: 666 })
    viewer.doc.getText('text').insert(0, 'VIEWER ')
  })
  viewer.doc.getMap('notes').delete('n1')
  await viewer.waitFor((v) => v.deniedCount >= 1, { timeout: 5000, what: 'a permission-denied auth message' })
  h.note(`auth messages received by the viewer: ${JSON.stringify(viewer.authMessages)}`)

  // The viewer keeps reading live edits after the refusal.
  await editReaches(ed, viewer, 'after-refusal')
  await sleep(QUIET_MS)
  const edView = ed.json()
  assert.equal(edView.notes['by-viewer'], undefined, 'the viewer\'s note reached the editor')
  assert.deepEqual(edView.notes.n1, { x: 10, y: 20 }, 'the viewer\'s delete reached the editor')
  assert.equal(edView.text, 'Atelier des prototypes', 'the viewer\'s text reached the editor')
  assert.ok(!ed.stateVector().has(viewer.clientID), 'the viewer\'s client id is in the editor\'s state vector')
  // No close, no error, one connection: the stock client only logged the refusal.
  assertStayedConnected([viewer, ed])
  assert.ok(viewer.connected, 'the viewer is still connected')
  const expected = ed.json()

  // Keep the viewer's refused content to offer it again after the restart.
  const viewerState = Y.encodeStateAsUpdate(viewer.doc)
  ed.destroy()
  viewer.destroy()
  const exit = await server.stop()
  assert.deepEqual(exit, { code: 0, signal: null })
  await server.start()

  const fresh = h.client(server, board, { as: 'fresh' })
  await fresh.synced()
  assert.deepEqual(fresh.json(), expected, 'after a restart the board holds the editor\'s content and nothing of the viewer')
  assert.ok(!fresh.stateVector().has(viewer.clientID), 'the viewer\'s client id is stored in the board')

  // The viewer comes back with its local edits: the stock provider offers them in its sync
  // step 2, and they are refused again.
  const viewerDoc = new Y.Doc()
  Y.applyUpdate(viewerDoc, viewerState)
  const back = h.client(server, board, { as: 'vera', name: 'vera-again', doc: viewerDoc })
  await back.synced()
  await back.waitFor((v) => v.deniedCount >= 1, { timeout: 5000, what: 'the refusal of the viewer\'s offline edits' })
  await sleep(QUIET_MS)
  assert.deepEqual(fresh.json(), expected, 'the viewer\'s edits offered on reconnect reached an editor')
  assertStayedConnected([back, fresh])
})

e2eTest('a member removed from the project mid-session is closed with 4401 and does not reconnect', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const board = await h.board(server, 'removed', ['rem', 'obs'])
  const rem = h.client(server, board, { as: 'rem' })
  const obs = h.client(server, board, { as: 'obs' })
  await allSynced([rem, obs])
  await editReaches(rem, obs, 'before-removal')

  const t0 = Date.now()
  await org.removeMember(server, org.account('rem').id)
  // Edits made from now on must never reach the board.
  rem.doc.getMap('notes').set('after-removal', { x: 0, y: 0 })
  await expectFinalClose(h, rem, t0, 4401)

  // Every way back in is refused: the upgrade answers 404 (the board is no longer visible).
  const again = await upgrade(server.wsUrl, board, org.tokenOf('rem'))
  assert.equal(again.status, 404, 'a removed member reconnecting: upgrade status')
  assert.equal(obs.json().notes['after-removal'], undefined, 'the removed member\'s edit reached the board')
  assertStayedConnected([obs])
  // The board as stored does not have it either.
  const admin = h.client(server, board, { name: 'admin', token: org.adminToken })
  await admin.synced()
  await waitConverged([obs, admin], { what: 'the admin to load the board' })
  assert.equal(admin.json().notes['after-removal'], undefined)
  assert.deepEqual(admin.json().notes['before-removal'], { x: 1, y: 2, by: 'rem' })
})

e2eTest('a role lowered to viewer mid-session: the connection stays open and its next edits no longer reach others', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const board = await h.board(server, 'lowered', ['low', 'obs', 'fresh'])
  const low = h.client(server, board, { as: 'low' })
  const obs = h.client(server, board, { as: 'obs' })
  await allSynced([low, obs])
  await editReaches(low, obs, 'before-demotion')
  assert.equal(low.deniedCount, 0)

  await org.setRole(server, org.account('low').id, 'viewer')
  low.doc.getMap('notes').set('after-demotion', { x: 3, y: 3 })
  low.doc.getText('text').insert(0, 'demoted ')
  await low.waitFor((c) => c.deniedCount >= 1, { timeout: 5000, what: 'a permission-denied auth message after the demotion' })

  // Still reading: others' edits keep arriving.
  await editReaches(obs, low, 'obs-after-demotion')
  await sleep(QUIET_MS)
  assert.equal(obs.json().notes['after-demotion'], undefined, 'an edit made after the demotion reached another client')
  assert.equal(obs.json().text, '', 'text typed after the demotion reached another client')
  assertStayedConnected([low, obs])
  assert.ok(low.connected)

  const fresh = h.client(server, board, { as: 'fresh' })
  await fresh.synced()
  await waitConverged([obs, fresh], { what: 'a fresh client to load the board' })
  assert.equal(fresh.json().notes['after-demotion'], undefined, 'the demoted edit is stored')
  assert.deepEqual(fresh.json().notes['before-demotion'], { x: 1, y: 2, by: 'low' })
})

e2eTest('logout closes the sockets of that token with 4401; the token is refused afterwards', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const board = await h.board(server, 'logout', ['out', 'obs'])
  const out = h.client(server, board, { as: 'out' })
  const obs = h.client(server, board, { as: 'obs' })
  await allSynced([out, obs])
  await editReaches(out, obs, 'before-logout')
  const token = org.tokenOf('out')

  const t0 = Date.now()
  await org.logout(server, 'out')
  await expectFinalClose(h, out, t0, 4401)

  const again = await upgrade(server.wsUrl, board, token)
  assert.equal(again.status, 401, 'a logged-out token at the upgrade')
  const me = await apiCall(server, 'GET', '/auth/me', { token })
  assert.equal(me.status, 401, 'a logged-out token on the REST API')
  assertStayedConnected([obs])
})

e2eTest('a guest invited to a board edits it; revoking the invite closes the guest with 4401', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const [fac] = await h.participants(server, ['fac'], { role: 'facilitator' })
  const board = await h.board(server, 'guest', ['ed'])
  const otherBoard = await h.board(server, 'not-invited')

  const created = await apiCall(server, 'POST', `/boards/${board}/invites`, {
    token: fac.token, body: { role: 'editor', expires_in_secs: 3600 }, expect: 201
  })
  const invite = created.body
  assert.equal(typeof invite.token, 'string')
  assert.ok(invite.url.endsWith(`/join/${invite.token}`), `invite url ${invite.url}`)
  h.note(`invite url: ${invite.url}`)

  const accepted = await apiCall(server, 'POST', `/invites/${invite.token}/accept`, {
    body: { display_name: 'Élu invité' }, expect: 201
  })
  const guestToken = accepted.body.token
  assert.equal(typeof guestToken, 'string')
  assert.equal(accepted.body.guest?.display_name, 'Élu invité')
  assert.equal(accepted.body.guest?.role, 'editor')
  assert.equal(accepted.body.board?.id, board)

  const ed = h.client(server, board, { as: 'ed' })
  const guest = h.client(server, board, { name: 'guest', token: guestToken })
  await allSynced([ed, guest])
  await editReaches(guest, ed, 'from-guest')
  await editReaches(ed, guest, 'from-editor')
  guest.awareness.setLocalState({ user: { name: 'Élu invité' } })
  await ed.waitFor((e) => e.awareness.getStates().get(guest.clientID)?.user?.name === 'Élu invité', {
    timeout: 5000, what: 'the guest\'s presence'
  })
  assert.equal(guest.deniedCount, 0)

  // The guest token opens that board only.
  const elsewhere = await upgrade(server.wsUrl, otherBoard, guestToken)
  assert.equal(elsewhere.status, 404, 'a guest token on another board of the project')

  const t0 = Date.now()
  await org.api(server, 'DELETE', `/invites/${invite.token}`, { expect: 204 })
  guest.doc.getMap('notes').set('after-revocation', { x: 9, y: 9 })
  await expectFinalClose(h, guest, t0, 4401)

  const reaccept = await apiCall(server, 'POST', `/invites/${invite.token}/accept`, { body: { display_name: 'Encore' } })
  assert.equal(reaccept.status, 404, `accepting a revoked invite: ${JSON.stringify(reaccept.body)}`)
  const again = await upgrade(server.wsUrl, board, guestToken)
  assert.equal(again.status, 401, 'the revoked guest\'s token at the upgrade (an invalid token)')
  assert.equal(ed.json().notes['after-revocation'], undefined)
  assertStayedConnected([ed])
})

e2eTest('another organisation cannot reach a board: upgrade 404, REST 404; bad tokens get 401', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const board = await h.board(server, 'isolated', ['ed'])
  const ed = h.client(server, board, { as: 'ed', saved: true })
  await ed.synced()
  ed.doc.getMap('notes').set('secret', { x: 1, y: 1 })
  await committed(ed)

  // A second organisation on the same database, with its own admin.
  const other = await h.tenancy(server, 'other')
  assert.notEqual(other.tenantId, org.tenantId)

  // Control: the first organisation's admin gets in.
  assert.equal((await upgrade(server.wsUrl, board, org.adminToken)).status, 101)
  assert.equal((await org.api(server, 'GET', `/boards/${board}`)).status, 200)

  const ws = await upgrade(server.wsUrl, board, other.adminToken)
  assert.equal(ws.status, 404, 'the other organisation\'s admin at the upgrade')
  const rest = await other.api(server, 'GET', `/boards/${board}`)
  assert.equal(rest.status, 404, `GET /boards/{id} by the other organisation: ${JSON.stringify(rest.body)}`)
  assert.equal((await other.api(server, 'GET', `/projects/${org.projectId}`)).status, 404)
  const invite = await other.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'editor', expires_in_secs: 60 } })
  assert.equal(invite.status, 404, `an invite to another organisation's board: ${JSON.stringify(invite.body)}`)
  const projects = await other.api(server, 'GET', '/projects', { expect: 200 })
  assert.ok(!projects.body.some((p) => p.id === org.projectId), 'the other organisation lists our project')

  // A stock provider with the other organisation's token never gets in, whatever it retries.
  const intruder = h.client(server, board, { name: 'intruder', token: other.adminToken, connect: false })
  intruder.doc.getMap('notes').set('intrusion', { x: 0, y: 0 })
  intruder.provider.connect()
  await sleep(1500)
  assert.equal(intruder.statusCount('connected'), 0, `the intruder connected: ${intruder.history()}`)
  assert.equal(intruder.json().notes.secret, undefined, 'the intruder received the board')
  assert.equal(ed.json().notes.intrusion, undefined, 'the intruder\'s edit reached the board')
  intruder.destroy()

  // Unknown tokens: 401; a board that does not exist: 404.
  assert.equal((await upgrade(server.wsUrl, board, 'alice-token')).status, 401)
  assert.equal((await upgrade(server.wsUrl, board, `${org.adminToken}x`)).status, 401)
  assert.equal((await upgrade(server.wsUrl, randomBoardId('nope'), org.adminToken)).status, 404)
  assertStayedConnected([ed])
})

e2eTest('operator `atelier admin revoke-tokens` on a running server closes that account\'s sockets with 4401', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const board = await h.board(server, 'cli-revoke', ['gone', 'obs'])
  const gone = h.client(server, board, { as: 'gone' })
  const obs = h.client(server, board, { as: 'obs' })
  await allSynced([gone, obs])
  await editReaches(gone, obs, 'before-revoke')

  // Another process changes the database: the server's periodic re-check (every 3 s) finds it.
  const result = await runAdmin(server.dataDir, ['revoke-tokens', '--email', org.account('gone').email])
  const t0 = Date.now()
  h.note(`revoke-tokens printed ${JSON.stringify(result)}`)
  // "Changes made outside the server apply within 3 seconds", counted from the command's exit;
  // the re-check runs every 3 s, so allow it its own database round trip on top.
  await expectFinalClose(h, gone, t0, 4401, { deadline: REVOCATION_DEADLINE_MS + OUT_OF_PROCESS_SLACK_MS })
  assert.equal((await upgrade(server.wsUrl, board, org.tokenOf('gone'))).status, 401, 'a revoked token at the upgrade')
  assertStayedConnected([obs])
})

e2eTest('a deleted board closes its sockets with 4404; an archived board turns them read-only', { timeout: 45_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const doomed = await h.board(server, 'deleted', ['ed', 'obs'])
  const archived = await h.board(server, 'archived')

  // Archived: connections stay open, reads go on, new content is refused and not relayed.
  const ed = h.client(server, archived, { as: 'ed' })
  const obs = h.client(server, archived, { as: 'obs' })
  await allSynced([ed, obs])
  await editReaches(ed, obs, 'before-archive')
  const patched = await org.api(server, 'PATCH', `/boards/${archived}`, { body: { archived: true }, expect: 200 })
  assert.ok(patched.body.archived_at, `PATCH archived answered ${JSON.stringify(patched.body)}`)
  ed.doc.getMap('notes').set('after-archive', { x: 5, y: 5 })
  await ed.waitFor((c) => c.deniedCount >= 1, { timeout: 5000, what: 'a permission-denied auth message on the archived board' })
  await sleep(QUIET_MS)
  assert.equal(obs.json().notes['after-archive'], undefined, 'an edit to an archived board was relayed')
  assertStayedConnected([ed, obs])

  // Deleted: final close with 4404, no reconnect.
  const a = h.client(server, doomed, { as: 'ed', name: 'ed-doomed' })
  await a.synced()
  const t0 = Date.now()
  await org.api(server, 'DELETE', `/boards/${doomed}`, { expect: 204 })
  await expectFinalClose(h, a, t0, 4404)
  assert.equal((await upgrade(server.wsUrl, doomed, org.tokenOf('ed'))).status, 404, 'a deleted board at the upgrade')
  assertStayedConnected([ed, obs])
})
