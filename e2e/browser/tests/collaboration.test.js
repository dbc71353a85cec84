// Two participants, each in their own browser context, on one board: each sees the other's
// notes, text, moves and live cursor, and the participant list; undo undoes only one's own
// change; an edit made offline reaches the other browser after reconnecting.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { canvasPoint, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

/** Double-clicks the background at `dx, dy` from the canvas centre and types `text`. */
async function addNote (page, dx, dy, text) {
  const before = await page.locator('.note').count()
  const p = await canvasPoint(page, dx, dy)
  await page.mouse.dblclick(p.x, p.y)
  await page.locator('.note textarea').waitFor()
  await page.keyboard.type(text)
  await page.keyboard.press('Escape')
  await waitFor(async () => (await page.locator('.note').count()) === before + 1, { what: `${text} to be added` })
  return page.locator('.note', { hasText: text })
}

e2eTest('two participants see each other\'s notes, moves and cursors', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'collab', ['alice', 'bob'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob') })
  await openBoard(alice, server, board)
  await openBoard(bob, server, board)

  // Presence: each lists the other.
  await alice.page.locator('.participants', { hasText: 'Bob' }).waitFor()
  await bob.page.locator('.participants', { hasText: 'Alice' }).waitFor()

  // Alice's note, with its text, appears for Bob.
  const aliceNote = await addNote(alice.page, -200, -100, 'Navette le dimanche')
  const seenByBob = bob.page.locator('.note', { hasText: 'Navette le dimanche' })
  await seenByBob.waitFor()

  // Bob's note appears for Alice.
  await addNote(bob.page, 150, 80, 'Pistes cyclables')
  await alice.page.locator('.note', { hasText: 'Pistes cyclables' }).waitFor()

  // Alice drags her note; Bob sees it move by the same amount (both at 100 %).
  const start = await notePosition(seenByBob)
  const box = await aliceNote.boundingBox()
  await alice.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
  await alice.page.mouse.down()
  await alice.page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 60, { steps: 12 })
  await alice.page.mouse.up()
  await waitFor(async () => {
    const now = await notePosition(seenByBob)
    return Math.abs(now.x - start.x - 120) < 1 && Math.abs(now.y - start.y - 60) < 1
  }, { what: 'Bob to see the note moved by (120, 60)' })

  // Alice's cursor, with her name, on Bob's screen.
  const p = await canvasPoint(alice.page, 40, 200)
  await alice.page.mouse.move(p.x, p.y, { steps: 4 })
  await bob.page.locator('.cursor', { hasText: 'Alice' }).waitFor()

  // Both saved.
  await alice.page.locator('.status-saved[data-state="saved"]').waitFor()
  await bob.page.locator('.status-saved[data-state="saved"]').waitFor()
  await shot(alice.page, 'collab-alice')
  await shot(bob.page, 'collab-bob')

  // Undo (Ctrl+Z on the board) takes back Alice's own changes only: her move, her text, her
  // note; Bob's note stays.
  await alice.page.locator('.canvas').focus()
  for (let i = 0; i < 3; i++) await alice.page.keyboard.press('Control+z')
  await waitFor(async () => (await bob.page.locator('.note', { hasText: 'Navette' }).count()) === 0 &&
    (await bob.page.locator('.note').count()) === 1, { what: 'Alice\'s note to be undone for Bob' })
  assert.equal(await alice.page.locator('.note', { hasText: 'Pistes cyclables' }).count(), 1, 'Bob\'s note is not undone')
  // Redo brings it back for both.
  for (let i = 0; i < 3; i++) await alice.page.keyboard.press('Control+Shift+z')
  await bob.page.locator('.note', { hasText: 'Navette le dimanche' }).waitFor()

  assert.deepEqual([...alice.errors, ...bob.errors], [])
})

e2eTest('an edit made offline reaches the other browser after reconnecting', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'offline', ['alice', 'bob'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob') })
  await openBoard(alice, server, board)
  await openBoard(bob, server, board)

  await alice.context.setOffline(true)
  await alice.page.locator('.status-connection[data-state="offline"], .status-connection[data-state="reconnecting"]').waitFor()
  await addNote(alice.page, 0, 0, 'Écrit hors ligne')
  assert.notEqual(await alice.page.locator('.status-saved').getAttribute('data-state'), 'saved')
  await shot(alice.page, 'offline-alice')
  // Bob does not have it yet.
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(await bob.page.locator('.note').count(), 0)

  await alice.context.setOffline(false)
  await alice.page.locator('.status-connection[data-state="connected"]').waitFor()
  await bob.page.locator('.note', { hasText: 'Écrit hors ligne' }).waitFor()
  await alice.page.locator('.status-saved[data-state="saved"]').waitFor()
  // Offline, the provider logs its failed reconnection attempts; nothing else may go wrong.
  const unexpected = alice.errors.filter((e) => !/WebSocket|ERR_INTERNET_DISCONNECTED|net::/.test(e))
  assert.deepEqual([...unexpected, ...bob.errors], [])
})
