// Opening a board this device has a copy of while the server is unreachable: the page does not
// hang on the REST calls, shows the copy and "Hors ligne", keeps the edits made meanwhile and
// sends them once the server is back; the project pages list the boards available offline. A
// guest's device keeps no record; signing out erases the records.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { canvasPoint, joinAsGuest, launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const recordKeys = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('atelier.boards:')))

async function addNote (page, dx, dy, text) {
  const p = await canvasPoint(page, dx, dy)
  await page.mouse.dblclick(p.x, p.y)
  await page.locator('.note textarea').waitFor()
  await page.keyboard.type(text)
  await page.keyboard.press('Escape')
  await page.locator('.note', { hasText: text }).waitFor()
}

e2eTest('a cached board opens offline, keeps the edits made there and syncs them when the server is back', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Hors les murs', ['alice', 'bob'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const { page } = alice

  // Online first: project page, then the board (its copy and its record are kept).
  await page.goto(`${server.httpUrl}/projects/${org.projectId}`)
  await page.getByRole('link', { name: 'Hors les murs' }).click()
  await page.locator('.status-connection[data-state="connected"]').waitFor()
  await addNote(page, -150, -60, 'Avant la coupure')
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  assert.equal((await recordKeys(page)).length, 1)
  await page.getByRole('link', { name: 'Retour au projet' }).click()
  await page.getByRole('heading', { name: 'Tableaux' }).waitFor()

  // The network goes away; the board opens from this device, at once.
  await alice.context.setOffline(true)
  const started = Date.now()
  await page.getByRole('link', { name: 'Hors les murs' }).click()
  await page.locator('.note', { hasText: 'Avant la coupure' }).waitFor()
  assert.ok(Date.now() - started < 5000, `the cached board opened in ${Date.now() - started} ms`)
  await page.locator('.status-connection[data-state="offline"]', { hasText: 'Hors ligne' }).waitFor()
  assert.match(await page.locator('.board-title').textContent(), /Hors les murs/)
  await addNote(page, 150, 80, 'Pendant la coupure')
  await page.locator('.status-saved', { hasText: 'gardées sur cet appareil' }).waitFor()
  await shot(page, 'offline-open')

  // The project page, offline, lists the boards this device can open.
  await page.getByRole('link', { name: 'Retour au projet' }).click()
  await page.getByRole('heading', { name: 'Disponibles sur cet appareil' }).waitFor()
  await shot(page, 'offline-project')
  await page.getByRole('link', { name: 'Hors les murs' }).click()
  await page.locator('.note', { hasText: 'Pendant la coupure' }).waitFor()
  // Opened again, it still knows those edits are not sent yet.
  await page.locator('.status-saved', { hasText: 'gardées sur cet appareil' }).waitFor()

  // The server is back: the edits reach it and Bob.
  await alice.context.setOffline(false)
  await page.locator('.status-connection[data-state="connected"]').waitFor()
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob') })
  await openBoard(bob, server, board)
  await bob.page.locator('.note', { hasText: 'Pendant la coupure' }).waitFor()
  await bob.page.locator('.note', { hasText: 'Avant la coupure' }).waitFor()

  // Signing out erases the records with the copies.
  await page.getByRole('button', { name: 'Déconnexion' }).click()
  await page.getByRole('heading', { name: 'Connexion' }).waitFor()
  assert.deepEqual(await recordKeys(page), [])
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))
  assert.deepEqual(dbs.filter((n) => n?.startsWith('atelier')), [])
  const unexpected = alice.errors.filter((e) => !/WebSocket|ERR_INTERNET_DISCONNECTED|net::/.test(e))
  assert.deepEqual([...unexpected, ...bob.errors], [])
})

e2eTest('a server that does not answer the REST calls does not keep a cached board from opening', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Lent', ['alice'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const { page } = alice
  await openBoard(alice, server, board)
  await addNote(page, 0, 0, 'Déjà là')
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  await page.getByRole('link', { name: 'Retour au projet' }).click()
  await page.getByRole('heading', { name: 'Tableaux' }).waitFor()

  // The REST API hangs (never answers); the WebSocket still works.
  await page.route('**/api/v1/**', () => { /* never answered */ })
  await page.getByRole('link', { name: 'Lent' }).click()
  await page.locator('.note', { hasText: 'Déjà là' }).waitFor({ timeout: 8000 })
  await page.locator('.status-connection[data-state="connected"]').waitFor()
  await addNote(page, 120, 120, 'Malgré la lenteur')
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  await page.unrouteAll({ behavior: 'ignoreErrors' })
  assert.deepEqual(alice.errors, [])
})

e2eTest('a guest\'s device keeps no record of the board', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Public')
  const org = await h.tenancy(server)
  const invite = await org.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'editor', expires_in_secs: 3600 }, expect: 201 })
  const guest = await participantPage(launched, server, { name: 'guest' })
  await joinAsGuest(guest.page, invite.body.url, 'Sam')
  await addNote(guest.page, 0, 0, 'Une idée')
  await guest.page.locator('.status-saved[data-state="saved"]').waitFor()
  assert.deepEqual(await guest.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('atelier.') && k !== 'atelier.lang' && k !== 'atelier.minimap')), [])
  assert.deepEqual(guest.errors, [])
})
