// Accessibility audit with axe-core (WCAG 2.x A and AA, best practices; colour contrast
// included): the sign-in page, the projects page, a project page with its management controls
// and the invitation dialog, and a board with notes, a participant followed and a facilitator's
// call, in French and in English, on a desktop and on a 768×1024 touch tablet. No serious or
// critical violation may remain. Every control added for facilitation is reachable with Tab.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { audit } from '../lib/axe.js'
import { addNote, writeBoard } from '../lib/boards.js'
import { launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

async function expectClean (page, what) {
  const found = await audit(page)
  assert.deepEqual(found, [], `${what}: axe found serious or critical violations:\n${found.join('\n')}`)
}

/** The accessible names of the elements Tab reaches in `presses` presses (the walk wraps
 * around the page, so every stop is seen from wherever it starts). */
async function tabStops (page, presses = 100) {
  const names = new Set()
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab')
    const name = await page.evaluate(() => {
      const el = document.activeElement
      if (!el || el === document.body) return null
      return el.getAttribute('aria-label') || el.textContent.trim().slice(0, 60)
    })
    if (name !== null) names.add(name)
  }
  return [...names]
}

e2eTest('sign-in, projects and project pages pass axe, in French and in English', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  await h.board(server, 'Atelier mobilités', ['bob'])
  const org = await h.tenancy(server)
  for (const lang of ['fr', 'en']) {
    const visitor = await participantPage(launched, server, { name: `visitor-${lang}` })
    await visitor.page.addInitScript((l) => localStorage.setItem('atelier.lang', l), lang)
    await visitor.page.goto(`${server.httpUrl}/`)
    await visitor.page.locator('input[type="email"], input[autocomplete="email"], #email').first().waitFor()
    await expectClean(visitor.page, `sign-in (${lang})`)
    await visitor.context.close()
  }

  const admin = await participantPage(launched, server, { name: 'admin', token: org.adminToken })
  const { page } = admin
  await page.goto(`${server.httpUrl}/`)
  await page.getByRole('heading', { name: 'Projets' }).waitFor()
  await page.getByRole('link', { name: 'e2e org' }).waitFor()
  await expectClean(page, 'projects (fr)')
  await page.getByRole('link', { name: 'e2e org' }).click()
  await page.getByRole('heading', { name: 'Membres' }).waitFor()
  // An invitation made here: the running invitations show their controls.
  await page.getByRole('button', { name: 'Inviter des participant·es à « Atelier mobilités »' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Créer le lien' }).click()
  await page.getByRole('dialog').getByRole('img').waitFor()
  await expectClean(page, 'invitation dialog (fr)')
  await page.getByRole('dialog').getByRole('button', { name: 'Fermer' }).click()
  await page.locator('.invite-row').waitFor()
  await page.getByRole('combobox', { name: 'Rôle de Bob' }).waitFor()
  await page.getByLabel('Compte de l’organisation').waitFor().catch(() => {})
  await expectClean(page, 'project page with management (fr)')
  await shot(page, 'a11y-project-fr')
  // Keyboard: every management control is reachable with Tab.
  const stops = await tabStops(page)
  for (const name of ['Rôle de Bob', 'Retirer Bob du projet', 'Révoquer l’invitation à « Atelier mobilités »', 'Afficher le QR code de l’invitation à « Atelier mobilités »', 'Licences des logiciels tiers']) {
    assert.ok(stops.includes(name), `Tab reaches "${name}" (reached: ${stops.join(' | ')})`)
  }

  await page.getByRole('button', { name: 'English version' }).click()
  await page.getByRole('heading', { name: 'Members' }).waitFor()
  await page.locator('.invite-row').waitFor()
  await expectClean(page, 'project page with management (en)')
  await shot(page, 'a11y-project-en')
  assert.deepEqual(admin.errors, [])
})

e2eTest('a board with notes passes axe, in French and in English, on a desktop and a tablet; its controls are reachable by keyboard', { timeout: 150_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Idées pour la gare', ['bob'])
  const org = await h.tenancy(server)
  const colors = ['yellow', 'orange', 'pink', 'violet', 'blue', 'green']
  await writeBoard(server, board, org.tokenOf('bob'), (doc) => {
    colors.forEach((color, i) => addNote(doc, { x: (i % 3) * 240, y: Math.floor(i / 3) * 200, color, text: `Idée ${color} : un abri vélo couvert` }))
    addNote(doc, { x: 0, y: 420, text: '' })
  })
  const admin = await participantPage(launched, server, { name: 'admin', token: org.adminToken })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob'), contextOptions: TABLET })
  await openBoard(admin, server, board)
  await openBoard(bob, server, board)
  await admin.page.locator('.note').nth(6).waitFor()
  await admin.page.getByRole('button', { name: 'Suivre Bob', exact: true }).waitFor()
  await bob.page.getByRole('button', { name: /^Suivre/ }).first().waitFor()

  // Desktop, French: a note selected, the admin following Bob.
  await admin.page.locator('.note').first().click()
  await admin.page.getByRole('button', { name: 'Suivre Bob', exact: true }).click()
  await admin.page.locator('.follow-banner').waitFor()
  await expectClean(admin.page, 'board (desktop, fr)')
  await shot(admin.page, 'a11y-board-fr')

  // Keyboard: the participant buttons, "bring everyone here", the banner's stop button and the
  // minimap's toggle are all on the Tab path.
  const stops = await tabStops(admin.page)
  for (const name of ['Suivre Bob', 'Rassembler ici : amener tout le monde à ma vue', 'Arrêter de suivre Bob', 'Masquer la mini-carte']) {
    assert.ok(stops.includes(name), `Tab reaches "${name}" (reached: ${stops.join(' | ')})`)
  }
  await admin.page.getByRole('button', { name: 'Arrêter de suivre Bob' }).click()

  // Tablet, French: brought to the admin's view (the notice is shown).
  await admin.page.getByRole('button', { name: /Rassembler ici/ }).click()
  await bob.page.locator('.summon-notice').waitFor()
  await expectClean(bob.page, 'board (tablet, fr, with the facilitator\'s notice)')
  await shot(bob.page, 'a11y-board-tablet-fr')

  // English, both.
  await admin.page.getByRole('button', { name: 'English version' }).click()
  await admin.page.locator('.status-connection', { hasText: 'Connected' }).waitFor()
  await expectClean(admin.page, 'board (desktop, en)')
  await bob.page.getByRole('button', { name: 'English version' }).tap()
  await bob.page.locator('.status-connection', { hasText: 'Connected' }).waitFor()
  await expectClean(bob.page, 'board (tablet, en)')
  await shot(bob.page, 'a11y-board-tablet-en')
  assert.deepEqual([...admin.errors, ...bob.errors], [])
})

e2eTest('the licences of the bundled packages are served and linked from the pages', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const visitor = await participantPage(launched, server, { name: 'visitor' })
  await visitor.page.goto(`${server.httpUrl}/`)
  const link = visitor.page.getByRole('link', { name: 'Licences des logiciels tiers' })
  assert.deepEqual(visitor.errors, [])
  await link.click()
  await visitor.page.waitForURL(/\/assets\/licenses\.txt$/)
  const text = await visitor.page.locator('body').textContent()
  assert.match(text, /^yjs 13\.\d+\.\d+$/m, 'yjs is listed with its version')
  assert.match(text, /^y-websocket \d+\.\d+\.\d+$/m)
  assert.match(text, /^qrcode-generator \d/m)
  assert.match(text, /License: MIT/)
  assert.match(text, /Permission is hereby granted/)
  const res = await fetch(`${server.httpUrl}/assets/licenses.txt`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^text\/plain/)
})
