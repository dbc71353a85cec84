// Managing a project from its page (on a 768×1024 touch tablet): an owner changes a member's
// role, removes a member (whose open board closes at once) and adds an account back; the
// running invitations are listed with copy, QR code and revoke (a revoked guest is cut off). A
// facilitator manages invitations but not members; an editor sees no management at all.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

e2eTest('an owner changes a role, removes a member, adds one, and revokes an invitation, by touch', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Atelier mobilités', ['bob', 'carla'])
  const org = await h.tenancy(server)
  const members = async () => (await org.api(server, 'GET', `/projects/${org.projectId}/members`, { expect: 200 })).body
  const roleOf = async (name) => (await members()).find((m) => m.user_id === org.account(name).id)?.role

  // Bob has the board open.
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob') })
  await openBoard(bob, server, board)

  // The admin (owner of every project of the organisation) on a tablet.
  const admin = await participantPage(launched, server, { name: 'admin', token: org.adminToken, contextOptions: TABLET })
  const { page } = admin
  await page.goto(`${server.httpUrl}/projects/${org.projectId}`)
  await page.getByRole('heading', { name: 'Membres' }).waitFor()

  // Change Carla's role: the server has it, and her board opens read-only.
  const carlaRole = page.getByRole('combobox', { name: 'Rôle de Carla' })
  assert.equal(await carlaRole.inputValue(), 'editor')
  await carlaRole.selectOption('viewer')
  await waitFor(async () => (await roleOf('carla')) === 'viewer', { what: 'Carla to be a viewer on the server' })
  const carla = await participantPage(launched, server, { name: 'carla', token: org.tokenOf('carla') })
  await openBoard(carla, server, board)
  await carla.page.locator('.readonly-badge', { hasText: 'Lecture seule' }).waitFor()

  // Remove Bob: one tap, then a confirmation; his open board is cut off at once.
  await page.getByRole('button', { name: 'Retirer Bob du projet' }).tap()
  await page.getByRole('button', { name: 'Confirmer : retirer Bob' }).tap()
  await page.locator('tr[data-member]', { hasText: 'Bob' }).waitFor({ state: 'detached' })
  await bob.page.locator('.status-connection[data-state="revoked"]').waitFor()
  assert.equal(await roleOf('bob'), undefined, 'Bob is no longer a member')
  await shot(bob.page, 'manage-removed-member')

  // The admin adds Bob back, as a facilitator.
  await page.getByLabel('Compte de l’organisation').selectOption({ label: `Bob (${org.account('bob').email})` })
  await page.getByLabel('Rôle', { exact: true }).selectOption('facilitator')
  await page.getByRole('button', { name: 'Ajouter au projet' }).tap()
  await page.getByRole('combobox', { name: 'Rôle de Bob' }).waitFor()
  assert.equal(await roleOf('bob'), 'facilitator')

  // An invitation made here is listed, with its QR code, and revoking it cuts its guest off.
  await page.getByRole('button', { name: 'Inviter des participant·es à « Atelier mobilités »' }).tap()
  const dialog = page.getByRole('dialog')
  await dialog.getByRole('button', { name: 'Créer le lien' }).tap()
  const url = await dialog.getByLabel('Lien d’invitation', { exact: true }).inputValue()
  await dialog.getByRole('button', { name: 'Fermer' }).tap()
  const row = page.locator('.invite-row', { hasText: 'Atelier mobilités' })
  await row.waitFor()
  assert.match(await row.textContent(), /contribuer jusqu’au .* créée par vous/)
  await row.getByRole('button', { name: 'Afficher le QR code de l’invitation à « Atelier mobilités »' }).tap()
  await page.getByRole('dialog').getByRole('img', { name: 'QR code du lien d’invitation' }).waitFor()
  assert.equal(await page.getByRole('dialog').locator('.qr-url').textContent(), url)
  await page.getByRole('dialog').getByRole('button', { name: 'Fermer' }).tap()

  const guest = await participantPage(launched, server, { name: 'guest' })
  await guest.page.goto(url)
  await guest.page.getByLabel('Votre nom ou prénom').fill('Dominique')
  await guest.page.getByRole('button', { name: 'Rejoindre' }).click()
  await guest.page.locator('.status-connection[data-state="connected"]').waitFor()
  await shot(page, 'manage-tablet')

  await row.getByRole('button', { name: 'Révoquer l’invitation à « Atelier mobilités »' }).tap()
  await page.getByRole('button', { name: 'Confirmer la révocation' }).tap()
  await row.waitFor({ state: 'detached' })
  await guest.page.locator('.status-connection[data-state="revoked"]').waitFor()
  const invites = (await org.api(server, 'GET', `/boards/${board}/invites`, { expect: 200 })).body
  assert.equal(invites.length, 1)
  assert.notEqual(invites[0].revoked_at, null, 'the invitation is revoked on the server')
  await page.getByText('Aucune invitation en cours.').waitFor()

  // The admin's own row has no controls (no locking oneself out from here).
  const own = page.locator('tr[data-member]', { hasText: '(vous)' })
  assert.equal(await own.locator('select, button').count(), 0)
  assert.deepEqual([...admin.errors, ...bob.errors, ...carla.errors, ...guest.errors.filter((e) => !/WebSocket/.test(e))], [])
})

e2eTest('a facilitator manages invitations, not members; an editor sees nothing to manage', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Radar', ['edith'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  // An invitation made elsewhere (the admin, through the API): listed, its link is not here.
  await org.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'viewer', expires_in_secs: 3600 }, expect: 201 })

  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  await f.page.goto(`${server.httpUrl}/projects/${org.projectId}`)
  await f.page.getByRole('heading', { name: 'Invitations en cours' }).waitFor()
  const row = f.page.locator('.invite-row', { hasText: 'Radar' })
  await row.getByText('Lien créé sur un autre appareil').waitFor()
  assert.match(await row.textContent(), /seulement regarder .* créée par Admin/)
  assert.equal(await row.getByRole('button', { name: /QR code|Copier/ }).count(), 0, 'a link made elsewhere cannot be shown here')
  assert.equal(await f.page.locator('select.role-select').count(), 0, 'a facilitator does not change roles')
  assert.equal(await f.page.getByRole('button', { name: /^Retirer/ }).count(), 0)
  // ... but any facilitator can end it, by its id.
  await row.getByRole('button', { name: 'Révoquer l’invitation à « Radar »' }).click()
  await f.page.getByRole('button', { name: 'Confirmer la révocation' }).click()
  await row.waitFor({ state: 'detached' })
  const invites = (await org.api(server, 'GET', `/boards/${board}/invites`, { expect: 200 })).body
  assert.notEqual(invites[0].revoked_at, null, 'revoked on the server')
  await f.page.getByRole('button', { name: 'Inviter des participant·es à « Radar »' }).waitFor()

  const e = await participantPage(launched, server, { name: 'edith', token: org.tokenOf('edith') })
  await e.page.goto(`${server.httpUrl}/projects/${org.projectId}`)
  await e.page.getByRole('heading', { name: 'Membres' }).waitFor()
  await e.page.getByRole('link', { name: 'Radar' }).waitFor()
  assert.equal(await e.page.getByRole('heading', { name: 'Invitations en cours' }).count(), 0)
  assert.equal(await e.page.locator('.page-controls, select.role-select, .row-actions, .invite-row').count(), 0)
  assert.equal(await e.page.getByRole('button', { name: /Inviter|Retirer|Renommer|Archiver/ }).count(), 0)
  await shot(e.page, 'manage-editor')
  assert.deepEqual([...f.errors, ...e.errors], [])
})
