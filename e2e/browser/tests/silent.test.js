// Silent writing (docs/board-schema.md, "Private documents and the reveal"): during a phase
// marked `private`, each participant's new notes go to their private document; nobody else
// receives them (not the other participant, not the facilitator) until the facilitator reveals
// them; then everyone sees every note once, in place, without the private marker.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { addNote, writeBoard } from '../lib/boards.js'
import { canvasPoint, joinAsGuest, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }
const BRUNO = 'Idée de Bruno : des bancs partout'
const CAMILLE = 'Idée de Camille : un jardin partagé'

e2eTest('silent writing: each participant sees only their own notes until the facilitator reveals them', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'écriture silencieuse', ['bruno'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  // The facilitator's agenda: a silent phase, then a shared one; the silent one is current.
  await writeBoard(server, board, fanny.token, (doc) => {
    addNote(doc, { x: -100, y: -300, text: 'Consigne : une idée par note', color: 'orange' })
    doc.getMap('meta').set('phases', [
      { id: 'ecrire', title: 'Écrire seul·e', minutes: 5, allow: ['notes'], private: true },
      { id: 'partager', title: 'Partager' }
    ])
    doc.getMap('meta').set('phase', 'ecrire')
  })

  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const b = await participantPage(launched, server, { name: 'bruno', token: org.tokenOf('bruno') })
  await openBoard(f, server, board)
  await openBoard(b, server, board)
  // Camille is a guest, on a touch tablet.
  const invite = await org.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'editor', expires_in_secs: 3600 }, expect: 201 })
  const c = await participantPage(launched, server, { name: 'camille', contextOptions: TABLET })
  await joinAsGuest(c.page, invite.body.url, 'Camille', { tap: true })

  // Everyone is told; only the facilitator may reveal.
  for (const p of [b, c]) await p.page.locator('.silent-banner', { hasText: 'Écriture silencieuse : vos notes ne sont visibles que par vous' }).waitFor()
  await f.page.locator('.silent-banner', { hasText: 'Écriture silencieuse en cours' }).waitFor()
  assert.equal(await b.page.getByRole('button', { name: 'Révéler les notes' }).count(), 0)
  assert.equal(await c.page.getByRole('button', { name: 'Révéler les notes' }).count(), 0)

  // Bruno: double click, type, Escape.
  const pb = await canvasPoint(b.page, -180, 60)
  await b.page.mouse.dblclick(pb.x, pb.y)
  await b.page.locator('.note textarea').waitFor()
  await b.page.keyboard.type(BRUNO)
  await b.page.keyboard.press('Escape')
  const brunoNote = b.page.locator('.note.private', { hasText: BRUNO })
  await brunoNote.waitFor()
  assert.match(await brunoNote.getAttribute('aria-describedby'), /private-note-description/)
  assert.equal(await b.page.locator('#private-note-description').textContent(), 'Note privée, visible par vous seul·e jusqu’à la révélation')
  await b.page.locator('.silent-state', { hasText: 'Notes privées enregistrées' }).waitFor()
  // Undo and redo reach the private notes (one history over both documents).
  await b.page.keyboard.press('Control+z')
  await waitFor(async () => (await b.page.locator('.note.private', { hasText: BRUNO }).count()) === 0, { what: 'undo to take back the private text' })
  await b.page.keyboard.press('Control+Shift+z')
  await brunoNote.waitFor()
  // A private note moves like any other (by its own document).
  const before = await notePosition(brunoNote)
  const nb = await brunoNote.boundingBox()
  await b.page.mouse.move(nb.x + nb.width / 2, nb.y + 30)
  await b.page.mouse.down()
  await b.page.mouse.move(nb.x + nb.width / 2 - 60, nb.y + 50, { steps: 6 })
  await b.page.mouse.up()
  await waitFor(async () => (await notePosition(brunoNote)).x === before.x - 60, { what: 'the private note to move' })
  const moved = await notePosition(brunoNote)
  await b.page.locator('.silent-state', { hasText: 'Notes privées enregistrées' }).waitFor()

  // Camille: double tap, type, tap the background.
  const pc = await canvasPoint(c.page, 60, 120)
  await c.page.touchscreen.tap(pc.x, pc.y)
  await c.page.touchscreen.tap(pc.x, pc.y)
  await c.page.locator('.note textarea').waitFor()
  await c.page.keyboard.type(CAMILLE)
  const away = await canvasPoint(c.page, 250, 380)
  await c.page.touchscreen.tap(away.x, away.y)
  await waitFor(async () => (await c.page.locator('.note textarea').count()) === 0, { what: 'Camille’s editor to close' })
  await c.page.locator('.note.private', { hasText: CAMILLE }).waitFor()
  await c.page.locator('.silent-state', { hasText: 'Notes privées enregistrées' }).waitFor()

  // Saved on the server, yet nobody else has them: each sees only their own.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const html = (p) => p.page.content()
  assert.ok(!(await html(b)).includes(CAMILLE), 'Bruno does not receive Camille’s note')
  assert.ok(!(await html(c)).includes(BRUNO), 'Camille does not receive Bruno’s note')
  const atFanny = await html(f)
  assert.ok(!atFanny.includes(BRUNO) && !atFanny.includes(CAMILLE), 'the facilitator receives neither')
  assert.equal(await f.page.locator('.note').count(), 1, 'the facilitator sees only the instructions')
  await shot(b.page, 'silent-bruno')
  await shot(c.page, 'silent-camille-tablet')
  await shot(f.page, 'silent-facilitator')

  // The reveal.
  await f.page.getByRole('button', { name: 'Révéler les notes' }).click()
  await f.page.locator('.silent-result', { hasText: '2 notes de 2 participant·es révélées' }).waitFor()
  await b.page.locator('.board-toast', { hasText: 'Votre note est révélée : tout le monde la voit' }).waitFor()
  for (const p of [f, b, c]) {
    await p.page.locator('.note', { hasText: BRUNO }).waitFor()
    await p.page.locator('.note', { hasText: CAMILLE }).waitFor()
    await waitFor(async () => (await p.page.locator('.note', { hasText: BRUNO }).count()) === 1 &&
      (await p.page.locator('.note', { hasText: CAMILLE }).count()) === 1 &&
      (await p.page.locator('.note.private').count()) === 0, { what: `${p.name} to see each note once, none private` })
    assert.equal(await p.page.locator('.note').count(), 3)
  }
  assert.deepEqual(await notePosition(f.page.locator('.note', { hasText: BRUNO })), moved, 'revealed where Bruno left it')
  await shot(f.page, 'silent-revealed-facilitator')
  await shot(c.page, 'silent-revealed-camille-tablet')

  // The revealed notes are ordinary notes: Camille moves Bruno's, everyone sees it.
  // Then the next phase: the banner goes, the private document is closed.
  await writeBoard(server, board, fanny.token, (doc) => doc.getMap('meta').set('phase', 'partager'))
  for (const p of [f, b, c]) {
    await waitFor(async () => await p.page.locator('.silent-banner').isHidden(), { what: `${p.name}’s banner to go` })
  }
  assert.equal(await b.page.locator('.notes-layer.private-notes').count(), 0)
  assert.equal(await b.page.locator('.note', { hasText: BRUNO }).count(), 1)
  await shot(b.page, 'silent-after')
  // A guest's device keeps no copy of the private document; a signed-in user's may.
  const copies = (p) => p.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith('atelier-board')))
  assert.deepEqual(await copies(c), [])
  assert.ok((await copies(b)).some((n) => n.endsWith(`${board}/mine`)), 'Bruno keeps his private copy')
  for (const p of [f, b, c]) assert.deepEqual(p.errors, [])
})

e2eTest('a facilitator makes a phase silent in the agenda; a participant writes by keyboard; reveal, then the next phase', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'déroulé silencieux', ['bruno'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  await writeBoard(server, board, fanny.token, (doc) => {
    doc.getMap('meta').set('phases', [{ id: 'ecrire', title: 'Écrire' }, { id: 'partager', title: 'Partager' }])
    doc.getMap('meta').set('phase', 'ecrire')
  })
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const b = await participantPage(launched, server, { name: 'bruno', token: org.tokenOf('bruno') })
  await openBoard(f, server, board)
  await openBoard(b, server, board)
  assert.equal(await b.page.locator('.silent-banner').isHidden(), true)

  // Fanny ticks "Écriture silencieuse" for the current phase in the agenda panel.
  await f.page.getByRole('button', { name: 'Déroulé', exact: true }).click()
  const box = f.page.locator('.agenda-row[data-phase-id="ecrire"]').getByRole('checkbox', { name: 'Écriture silencieuse' })
  await box.check()
  await shot(f.page, 'silent-agenda')
  await b.page.locator('.silent-banner', { hasText: 'vos notes ne sont visibles que par vous' }).waitFor()
  await f.page.getByRole('button', { name: 'Déroulé', exact: true }).click()

  // Bruno, by keyboard: N adds a note, he types, Escape; Enter edits it again.
  await b.page.locator('.canvas').focus()
  await b.page.keyboard.press('n')
  await b.page.locator('.note textarea').waitFor()
  await b.page.keyboard.type('Brouillon')
  await b.page.keyboard.press('Escape')
  await b.page.keyboard.press('Enter')
  await b.page.locator('.note textarea').waitFor()
  await b.page.keyboard.press('End')
  await b.page.keyboard.type(' secret')
  await b.page.keyboard.press('Escape')
  const mine = b.page.locator('.note.private', { hasText: 'Brouillon secret' })
  await mine.waitFor()
  // The outline lists it apart, as private.
  await b.page.locator('#board-outline .outline-item[aria-label*="Privée"]', { hasText: 'Brouillon secret' }).waitFor()
  assert.equal(await b.page.locator('#outline-private').textContent(), 'Vos notes privées (écriture silencieuse)')
  // A second one, deleted with the Delete key: never revealed.
  await b.page.keyboard.press('n')
  await b.page.locator('.note textarea').waitFor()
  await b.page.keyboard.type('À jeter')
  await b.page.keyboard.press('Escape')
  await b.page.locator('.note.private', { hasText: 'À jeter' }).waitFor()
  await b.page.keyboard.press('Delete')
  await waitFor(async () => (await b.page.locator('.note', { hasText: 'À jeter' }).count()) === 0, { what: 'the deleted private note to go' })
  await b.page.locator('.silent-state', { hasText: 'Notes privées enregistrées' }).waitFor()
  assert.deepEqual(await audit(b.page), [])
  await shot(b.page, 'silent-keyboard')
  await new Promise((resolve) => setTimeout(resolve, 800))
  assert.ok(!(await f.page.content()).includes('Brouillon'), 'the facilitator does not receive it')

  // Reveal, then the next phase: the note is a board note, the private document closed.
  await f.page.getByRole('button', { name: 'Révéler les notes' }).click()
  await f.page.locator('.silent-result', { hasText: '1 note de 1 participant·e révélée' }).waitFor()
  await f.page.locator('.note', { hasText: 'Brouillon secret' }).waitFor()
  assert.deepEqual(await audit(f.page), [])
  await f.page.getByRole('button', { name: 'Phase suivante' }).first().click()
  await waitFor(async () => await b.page.locator('.silent-banner').isHidden(), { what: 'the banner to go' })
  assert.equal(await b.page.locator('.notes-layer.private-notes').count(), 0)
  await waitFor(async () => (await b.page.locator('.note', { hasText: 'Brouillon secret' }).count()) === 1, { what: 'the revealed note once' })
  assert.equal(await b.page.locator('.note.private').count(), 0)
  assert.equal(await b.page.locator('#outline-private').count(), 0)
  // It is an ordinary note now: Bruno colours it, Fanny sees it.
  await b.page.locator('.note', { hasText: 'Brouillon secret' }).click()
  await b.page.getByRole('button', { name: 'Rose' }).first().click()
  await waitFor(async () => (await f.page.locator('.note', { hasText: 'Brouillon secret' }).getAttribute('data-color')) === 'pink', { what: 'Fanny to see the colour' })
  for (const p of [f, b]) assert.deepEqual(p.errors, [])
})
