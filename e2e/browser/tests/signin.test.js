// Sign in through the UI, create a board in the project, invite guests (link, copy, QR code),
// open the board, add a note by double click, type into it, and see the status bar reach
// "Enregistré" once the server confirmed the commit.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { ADMIN_PASSWORD } from '../../lib/tenancy.js'
import { canvasPoint, launchBrowser, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

e2eTest('sign in, create a board, invite, add a note, saved', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const admin = await participantPage(launched, server, { name: 'admin' })
  const { page } = admin

  // Sign-in page (French by default), then the projects list.
  await page.goto(`${server.httpUrl}/`)
  await page.getByRole('heading', { name: 'Connexion' }).waitFor()
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr')
  await shot(page, 'signin')
  await page.getByLabel('Adresse e-mail').fill(org.adminEmail)
  await page.getByLabel('Mot de passe').fill(ADMIN_PASSWORD)
  await page.getByRole('button', { name: 'Se connecter' }).click()
  await page.getByRole('heading', { name: 'Projets' }).waitFor()
  const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('atelier.session'), local: Object.keys(localStorage) }))
  assert.ok(stored.session && JSON.parse(stored.session).token, 'the token is kept in sessionStorage')
  assert.ok(!stored.local.some((k) => k.includes('session')), 'nothing of the session in localStorage')

  // The project made by the tenancy setup; create a board of kind "démarreur".
  await page.getByRole('link', { name: 'e2e org' }).click()
  await page.getByRole('heading', { name: 'e2e org' }).waitFor()
  await page.getByLabel('Titre').fill('Mobilités 2030')
  await page.getByLabel('Type d’atelier').selectOption('demarreur')
  await page.getByRole('button', { name: 'Créer le tableau' }).click()
  const link = page.getByRole('link', { name: 'Mobilités 2030' })
  await link.waitFor()
  const boards = await org.api(server, 'GET', `/projects/${org.projectId}/boards`, { expect: 200 })
  const created = boards.body.find((b) => b.title === 'Mobilités 2030')
  assert.ok(created, 'the board exists on the server')
  assert.equal(created.kind, 'demarreur')

  // Rename it.
  await page.getByRole('button', { name: 'Renommer « Mobilités 2030 »' }).click()
  await page.getByLabel('Nouveau titre').fill('Mobilités 2035')
  await page.getByRole('button', { name: 'Enregistrer' }).click()
  await page.getByRole('link', { name: 'Mobilités 2035' }).waitFor()

  // Invite guests: link, copy button, QR code.
  await page.getByRole('button', { name: 'Inviter des participant·es à « Mobilités 2035 »' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('Les invité·es peuvent').selectOption('editor')
  await dialog.getByLabel('Le lien expire dans').selectOption(String(7 * 24 * 3600))
  await dialog.getByRole('button', { name: 'Créer le lien' }).click()
  const inviteLink = dialog.getByLabel('Lien d’invitation', { exact: true })
  await inviteLink.waitFor()
  const url = await inviteLink.inputValue()
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/join\/[A-Za-z0-9_-]+$/)
  await dialog.getByRole('img', { name: 'QR code du lien d’invitation' }).waitFor()
  await dialog.getByRole('button', { name: 'Copier le lien' }).waitFor()
  await shot(page, 'project-invite')
  await dialog.getByRole('button', { name: 'Fermer' }).click()
  await shot(page, 'project')

  // Open the board: connected. (The first editor of a new board writes meta.schema, so the
  // status may already say "Enregistré".)
  await page.getByRole('link', { name: 'Mobilités 2035' }).click()
  await page.locator('.status-connection[data-state="connected"]').waitFor()
  assert.equal(await page.locator('.status-connection').textContent(), 'Connecté')

  // Double click on the background: a note, in editing mode.
  const p = await canvasPoint(page, -150, -80)
  await page.mouse.dblclick(p.x, p.y)
  await page.locator('.note textarea').waitFor()
  await page.keyboard.type('Covoiturage de proximité')
  await page.keyboard.press('Escape')
  const note = page.locator('.note')
  assert.equal(await note.count(), 1)
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  assert.equal(await page.locator('.status-saved').textContent(), 'Enregistré')
  assert.equal(await note.locator('.note-text').textContent(), 'Covoiturage de proximité')

  // The outline lists it.
  await page.locator('#board-outline').getByText('Covoiturage de proximité').waitFor({ state: 'attached' })
  await shot(page, 'board-saved')

  // English through the language switch; the board stays connected.
  await page.getByRole('button', { name: 'English version' }).click()
  await page.locator('.status-connection', { hasText: 'Connected' }).waitFor()
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')
  assert.equal(await page.locator('.status-saved').textContent(), 'Saved')
  await shot(page, 'board-english')
  assert.deepEqual(admin.errors, [])
})
