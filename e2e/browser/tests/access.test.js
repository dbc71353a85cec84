// Read-only boards: a viewer sees everything live and cannot change anything, and the UI says
// so; an archived board is read-only for its editors too. A guest joins through an invitation
// on a 768×1024 touch tablet, adds a note with a double tap, and leaves nothing on the device.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { canvasPoint, launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

e2eTest('a viewer sees the board live but cannot edit, and the UI says so', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'lecture', ['alice'])
  await h.participants(server, ['victor'], { role: 'viewer' })
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const victor = await participantPage(launched, server, { name: 'victor', token: org.tokenOf('victor') })
  await openBoard(alice, server, board)
  await openBoard(victor, server, board)

  // The UI says read-only, in the header and in the status bar.
  await victor.page.locator('.readonly-badge', { hasText: 'Lecture seule' }).waitFor()
  assert.match(await victor.page.locator('.status-readonly').textContent(), /Lecture seule/)
  assert.equal(await victor.page.getByRole('button', { name: 'Ajouter une note' }).isDisabled(), true)

  // Alice's note appears for Victor, live.
  const p = await canvasPoint(alice.page, 0, 0)
  await alice.page.mouse.dblclick(p.x, p.y)
  await alice.page.keyboard.type('Visible par tous')
  await alice.page.keyboard.press('Escape')
  const note = victor.page.locator('.note', { hasText: 'Visible par tous' })
  await note.waitFor()

  // Victor tries: double click, N, drag, Delete. Nothing changes, anywhere.
  const v = await canvasPoint(victor.page, 200, 150)
  await victor.page.mouse.dblclick(v.x, v.y)
  await victor.page.locator('.canvas').focus()
  await victor.page.keyboard.press('n')
  const box = await note.boundingBox()
  const before = await note.evaluate((el) => el.style.transform)
  await victor.page.mouse.move(box.x + 20, box.y + 20)
  await victor.page.mouse.down()
  await victor.page.mouse.move(box.x + 220, box.y + 120, { steps: 8 })
  await victor.page.mouse.up()
  await note.click()
  await victor.page.keyboard.press('Delete')
  await victor.page.keyboard.press('Enter')
  assert.equal(await victor.page.locator('.note textarea').count(), 0, 'no editor opens')
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(await victor.page.locator('.note').count(), 1)
  assert.equal(await note.evaluate((el) => el.style.transform), before, 'the note did not move')
  assert.equal(await alice.page.locator('.note').count(), 1)
  // Presence still works both ways for a viewer.
  await alice.page.locator('.participants', { hasText: 'Victor' }).waitFor()
  await shot(victor.page, 'viewer')
  assert.deepEqual([...alice.errors, ...victor.errors], [])
})

e2eTest('a role lowered while on the board: the server refuses the next edit and the UI turns read-only', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'rétrogradé', ['alice'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  await openBoard(alice, server, board)
  assert.equal(await alice.page.locator('.readonly-badge').isVisible(), false)
  // The page still believes Alice is an editor; the server does not.
  await org.setRole(server, org.account('alice').id, 'viewer')
  const p = await canvasPoint(alice.page, 0, 0)
  await alice.page.mouse.dblclick(p.x, p.y)
  await alice.page.locator('.status-readonly', { hasText: 'le serveur a refusé' }).waitFor()
  await alice.page.locator('.readonly-badge', { hasText: 'Lecture seule' }).waitFor()
  assert.equal(await alice.page.getByRole('button', { name: 'Ajouter une note' }).isDisabled(), true)
  assert.equal(await alice.page.locator('.status-connection').getAttribute('data-state'), 'connected', 'the connection stays open for reading')
  assert.equal(await alice.page.locator('.status-saved').textContent(), 'Modifications refusées, non enregistrées')
  await shot(alice.page, 'denied')
  // Reloading drops the refused note and shows the board as stored, read-only from the start.
  await alice.page.getByRole('button', { name: 'Recharger le tableau' }).click()
  await alice.page.locator('.status-connection[data-state="connected"]').waitFor()
  await alice.page.locator('.status-readonly', { hasText: 'votre rôle permet de regarder' }).waitFor()
  assert.equal(await alice.page.locator('.note').count(), 0)
})

e2eTest('an archived board is read-only for its editors', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'archive', ['alice'])
  const org = await h.tenancy(server)
  await org.api(server, 'PATCH', `/boards/${board}`, { body: { archived: true }, expect: 200 })
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  await openBoard(alice, server, board)
  await alice.page.locator('.status-readonly', { hasText: 'archivé' }).waitFor()
  const p = await canvasPoint(alice.page, 0, 0)
  await alice.page.mouse.dblclick(p.x, p.y)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(await alice.page.locator('.note').count(), 0)
})

e2eTest('a guest joins by invitation on a touch tablet and adds a note with a double tap', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'soirée publique', ['alice'])
  const org = await h.tenancy(server)
  const invite = await org.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'editor', expires_in_secs: 3600 }, expect: 201 })
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  await openBoard(alice, server, board)

  const guest = await participantPage(launched, server, {
    name: 'guest',
    contextOptions: { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }
  })
  const { page } = guest
  const response = await page.goto(invite.body.url)
  assert.equal(response.headers()['referrer-policy'], 'no-referrer')
  await page.getByRole('heading', { name: 'Rejoindre l’atelier' }).waitFor()
  await shot(page, 'guest-join')
  await page.getByLabel('Votre nom ou prénom').fill('Camille')
  await page.getByRole('button', { name: 'Rejoindre' }).tap()
  await page.locator('.status-connection[data-state="connected"]').waitFor()
  assert.match(page.url(), new RegExp(`/boards/${board}$`), 'the invitation secret left the address bar')
  await alice.page.locator('.participants', { hasText: 'Camille' }).waitFor()

  // Double tap on the background: a note, typed on the (virtual) keyboard.
  const p = await canvasPoint(page, -100, -150)
  await page.touchscreen.tap(p.x, p.y)
  await page.touchscreen.tap(p.x, p.y)
  await page.locator('.note textarea').waitFor()
  await page.keyboard.type('Un banc à l’arrêt de bus')
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  await alice.page.locator('.note', { hasText: 'Un banc à l’arrêt de bus' }).waitFor()
  // Tap the background to finish; the note stays.
  const q = await canvasPoint(page, 150, 250)
  await page.touchscreen.tap(q.x, q.y)
  await waitFor(async () => (await page.locator('.note textarea').count()) === 0, { what: 'the editor to close' })
  await shot(page, 'guest-tablet')

  // Two fingers: spreading them zooms in around their midpoint, moving them together pans.
  const cdp = await guest.context.newCDPSession(page)
  const c = await canvasPoint(page, 0, 100)
  const touch = (type, spread, shift = 0) => cdp.send('Input.dispatchTouchEvent', {
    type,
    touchPoints: type === 'touchEnd' ? [] : [
      { x: c.x - spread + shift, y: c.y, id: 0 },
      { x: c.x + spread + shift, y: c.y, id: 1 }
    ]
  })
  const zoomLevel = async () => Number((await page.locator('.zoom-level').textContent()).replace(/\D/g, ''))
  assert.equal(await zoomLevel(), 100)
  await touch('touchStart', 50)
  for (let spread = 60; spread <= 100; spread += 10) await touch('touchMove', spread)
  await touch('touchEnd', 100)
  await waitFor(async () => (await zoomLevel()) === 200, { what: 'a pinch to zoom to 200 %' })
  const noteBefore = await page.locator('.note').boundingBox()
  await touch('touchStart', 60)
  for (let shift = 20; shift <= 100; shift += 20) await touch('touchMove', 60, shift)
  await touch('touchEnd', 60)
  await waitFor(async () => Math.abs((await page.locator('.note').boundingBox()).x - noteBefore.x - 100) < 2,
    { what: 'a two-finger pan of 100 px' })
  assert.equal(await zoomLevel(), 200)
  await shot(page, 'guest-pinched')
  // Chromium's gesture detector takes a tap right after synthetic two-finger input as part of
  // that gesture (no click); a person's next tap comes later than that.
  await new Promise((resolve) => setTimeout(resolve, 800))
  // The zoom controls over the canvas answer taps.
  await page.getByRole('button', { name: 'Tout afficher' }).tap()
  await waitFor(async () => (await zoomLevel()) === 100, { what: 'a tap on "Tout afficher" to fit the board' })

  // The guest's device keeps nothing: no IndexedDB copy, and leaving forgets the session.
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))
  assert.deepEqual(dbs.filter((n) => n?.startsWith('atelier')), [])
  await page.getByRole('button', { name: 'Quitter' }).tap()
  await page.getByText('Vous avez quitté le tableau').waitFor()
  assert.equal(await page.evaluate(() => sessionStorage.getItem('atelier.session')), null)
  await shot(page, 'guest-left')
  assert.deepEqual([...alice.errors, ...guest.errors], [])
})
