// The facilitation rules as a participant meets them in the browser: a note a facilitator
// locked is dragged by an editor; the server reverts the move for everyone, the note goes back
// for both, the editor is told why and can go on working.
//
// The UI does not let a participant drag a note it knows is locked (facilitation-tools.test.js),
// so the lock here arrives while the editor is offline: their move, made before they heard of
// the lock, reaches the server after it, as a modified client's would.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { addNote, writeBoard } from '../lib/boards.js'
import { launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

e2eTest('a note locked while a participant was offline, moved by them, comes back for everyone, and the participant is told why', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'verrou', ['bruno'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  let lockedId
  await writeBoard(server, board, fanny.token, (doc) => {
    lockedId = addNote(doc, { x: -100, y: -80, text: 'Consigne : une idée par note', color: 'orange' })
    addNote(doc, { x: 250, y: -80, text: 'Idée libre', color: 'yellow' })
  })
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const b = await participantPage(launched, server, { name: 'bruno', token: org.tokenOf('bruno') })
  await openBoard(f, server, board)
  await openBoard(b, server, board)

  const lockedAtBruno = b.page.locator('.note', { hasText: 'Consigne' })
  const lockedAtFanny = f.page.locator('.note', { hasText: 'Consigne' })
  await lockedAtBruno.waitFor()
  const start = await notePosition(lockedAtFanny)

  // Bruno loses the network; meanwhile Fanny locks the note.
  await b.context.setOffline(true)
  await b.page.locator('.status-connection[data-state="offline"]').waitFor()
  await writeBoard(server, board, fanny.token, (doc) => doc.getMap('notes').get(lockedId).set('locked', true))
  await f.page.locator('.note.locked', { hasText: 'Consigne' }).waitFor()

  // Bruno, who has not heard of the lock, drags the note; back online, his move reaches the server.
  const box = await lockedAtBruno.boundingBox()
  await b.page.mouse.move(box.x + box.width / 2, box.y + 20)
  await b.page.mouse.down()
  await b.page.mouse.move(box.x + box.width / 2 + 160, box.y + 100, { steps: 10 })
  await b.page.mouse.up()
  await waitFor(async () => (await notePosition(lockedAtBruno)).x !== start.x, { what: 'Bruno\'s offline move' })
  await b.context.setOffline(false)

  const notice = b.page.locator('.status-notice')
  await notice.filter({ hasText: 'verrouillé' }).waitFor({ timeout: 10_000 })
  await shot(b.page, 'facilitation-reverted')
  await waitFor(async () => {
    const [atB, atF] = await Promise.all([notePosition(lockedAtBruno), notePosition(lockedAtFanny)])
    return atB.x === start.x && atB.y === start.y && atF.x === start.x && atF.y === start.y
  }, { what: 'the locked note back at its place for both' })

  // The board stays editable for Bruno: moving the free note works and reaches Fanny.
  assert.equal(await b.page.locator('.status-readonly').isHidden(), true, 'not read-only')
  const free = b.page.locator('.note', { hasText: 'Idée libre' })
  const freeAtF = f.page.locator('.note', { hasText: 'Idée libre' })
  const freeStart = await notePosition(freeAtF)
  const fb = await free.boundingBox()
  await b.page.mouse.move(fb.x + fb.width / 2, fb.y + 20)
  await b.page.mouse.down()
  await b.page.mouse.move(fb.x + fb.width / 2 + 40, fb.y + 80, { steps: 8 })
  await b.page.mouse.up()
  await waitFor(async () => {
    const now = await notePosition(freeAtF)
    return Math.abs(now.x - freeStart.x - 40) < 1 && Math.abs(now.y - freeStart.y - 60) < 1
  }, { what: 'Fanny to see the free note moved' })
})
