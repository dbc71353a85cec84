// The facilitator's tools, with a facilitator and two participants (one on a 768×1024 touch
// tablet): locking a note (the padlock, a participant can neither drag nor delete it, a finger on
// it pans the board instead; unlocking), the agenda ("Écriture silencieuse": notes only, 5 min;
// "Regroupement": groups too), the phase strip and the shared timer everyone sees (pause, +1 min,
// resume), the tools a phase does not allow disabled with their reason, "Phase suivante", and
// the versions: one kept by the server at each change of phase, one kept on request, viewed
// read-only and downloaded as the Yjs update. The tablet's clock is three minutes fast: the
// timer shows the same time there (it counts from the server's clock). A timer running out
// gives everyone its cue. The server's side of the same rules (reverting
// what a modified client sends) is facilitation.test.js and the server's tests.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { sleep, waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { addNote, visibleWorld, writeBoard, Y } from '../lib/boards.js'
import { canvasPoint, definePhase, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

/** Drags with the mouse from the note's top band by (dx, dy) screen pixels. */
async function mouseDrag (page, locator, dx, dy) {
  const box = await locator.boundingBox()
  await page.mouse.move(box.x + box.width / 2, box.y + 24)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width / 2 + dx, box.y + 24 + dy, { steps: 10 })
  await page.mouse.up()
}

/** One finger from the element's centre by (dx, dy) screen pixels (CDP touch events). */
async function fingerDrag (p, locator, dx, dy) {
  const box = await locator.boundingBox()
  const cdp = await p.context.newCDPSession(p.page)
  const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...from, id: 0 }] })
  for (let i = 1; i <= 8; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: from.x + dx * i / 8, y: from.y + dy * i / 8, id: 0 }] })
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
  await cdp.detach()
}

/** The timer's "m:ss" in seconds. */
async function timerSeconds (page) {
  const text = await page.locator('.facilitation-strip .timer-time').textContent()
  const [m, s] = text.split(':').map(Number)
  return m * 60 + s
}

e2eTest('a facilitator locks, runs an agenda with a shared timer and keeps versions; participants follow on a desktop and a tablet', { timeout: 180_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Atelier mobilités', ['bruno', 'tess'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  await writeBoard(server, board, fanny.token, (doc) => {
    // As the first editor to open the board writes them: three people opening a new board at
    // once would race to, and the server reverts all but the first (a settings change).
    doc.getMap('meta').set('schema', 1)
    doc.getMap('meta').set('kind', 'postit')
    addNote(doc, { x: -260, y: -80, text: 'Consigne : une idée par note', color: 'orange' })
    addNote(doc, { x: 60, y: -80, text: 'Idée libre', color: 'yellow' })
  })
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const b = await participantPage(launched, server, { name: 'bruno', token: org.tokenOf('bruno') })
  const tess = await participantPage(launched, server, { name: 'tess', token: org.tokenOf('tess'), contextOptions: TABLET })
  // A tablet whose clock is three minutes fast (its time still flows).
  await tess.context.clock.install({ time: Date.now() + 180_000 })
  await Promise.all([openBoard(f, server, board), openBoard(b, server, board), openBoard(tess, server, board)])
  const everyone = [f, b, tess]
  const noteAt = (p, text) => p.page.locator('.world .note', { hasText: text })
  await Promise.all(everyone.map((p) => noteAt(p, 'Consigne').waitFor()))

  // ---- locks ---------------------------------------------------------------------------
  // Participants have no padlock button, nor the facilitator's panels.
  for (const p of [b, tess]) {
    assert.equal(await p.page.locator('[data-tool="lock"]').isHidden(), true, `${p.name}: no lock button`)
    assert.equal(await p.page.locator('[data-panel="agenda-panel"]').isHidden(), true, `${p.name}: no agenda button`)
    assert.equal(await p.page.locator('[data-panel="versions-panel"]').isHidden(), true, `${p.name}: no versions button`)
  }
  await noteAt(f, 'Consigne').click({ position: { x: 100, y: 20 } })
  const lockButton = f.page.locator('[data-tool="lock"]')
  await lockButton.click()
  await waitFor(async () => (await lockButton.getAttribute('aria-pressed')) === 'true', { what: 'the lock button pressed' })
  for (const p of everyone) {
    await p.page.locator('.world .note.locked', { hasText: 'Consigne' }).waitFor()
    await p.page.locator('.lock-badge').waitFor()
    await waitFor(async () => /verrouillé/.test(await noteAt(p, 'Consigne').getAttribute('aria-label')), { what: `${p.name}: the label to say locked` })
  }
  await shot(f.page, 'facilitation-tools-locked-fanny')
  const start = await notePosition(noteAt(f, 'Consigne'))

  // Bruno drags it with the mouse: it stays (a box selection on the background instead), and
  // nothing is sent that the server would revert.
  await mouseDrag(b.page, noteAt(b, 'Consigne'), 160, 90)
  await sleep(600)
  assert.deepEqual(await notePosition(noteAt(b, 'Consigne')), start, 'Bruno cannot drag the locked note')
  assert.deepEqual(await notePosition(noteAt(f, 'Consigne')), start)
  assert.equal(await b.page.locator('.world .note.selected').count(), 0, 'the locked note is not selected')
  assert.equal(await b.page.locator('.status-notice').isHidden(), true, `nothing was reverted (${await b.page.locator('.status-notice').textContent()})`)
  // By keyboard: the note takes focus (to be read) but Delete says why it does nothing.
  await noteAt(b, 'Consigne').focus()
  await b.page.keyboard.press('Delete')
  await b.page.locator('.facilitation-toast', { hasText: 'verrouillé' }).waitFor()
  assert.equal(await noteAt(b, 'Consigne').count(), 1, 'Delete kept the locked note')
  // A tap on the padlock says it too.
  await b.page.locator('.lock-badge').click()
  await b.page.locator('.facilitation-toast', { hasText: 'vous pouvez le lire' }).waitFor()
  await shot(b.page, 'facilitation-tools-locked-bruno')

  // Tess's finger on it pans the board: the note stays where it is on the board.
  const view = await visibleWorld(tess.page)
  await fingerDrag(tess, noteAt(tess, 'Consigne'), 80, 60)
  await waitFor(async () => (await visibleWorld(tess.page)).x !== view.x, { what: 'Tess\'s finger to pan the board' })
  assert.deepEqual(await notePosition(noteAt(tess, 'Consigne')), start, 'a finger does not move the locked note')
  await sleep(800) // Chromium's gesture detector (see access.test.js)
  await shot(tess.page, 'facilitation-tools-locked-tablet')

  // The facilitator moves it still, then unlocks it (Ctrl+Shift+L); Bruno can move it then.
  await mouseDrag(f.page, noteAt(f, 'Consigne'), 0, -40)
  await waitFor(async () => (await notePosition(noteAt(b, 'Consigne'))).y < start.y - 30, { what: 'the facilitator\'s move to reach Bruno' })
  const moved = await notePosition(noteAt(f, 'Consigne'))
  await noteAt(f, 'Consigne').click({ position: { x: 100, y: 20 } })
  await f.page.keyboard.press('Control+Shift+L')
  for (const p of everyone) await waitFor(async () => (await p.page.locator('.world .note.locked').count()) === 0 && (await p.page.locator('.lock-badge').count()) === 0, { what: `${p.name}: the note unlocked` })
  await mouseDrag(b.page, noteAt(b, 'Consigne'), 60, 0)
  await waitFor(async () => (await notePosition(noteAt(f, 'Consigne'))).x > moved.x + 40, { what: 'Bruno\'s move of the unlocked note to reach Fanny' })

  // Items of any layer lock alike: a frame (a template to work on). For a participant the
  // pointer goes through it: a double click on its title adds a note, as on the board.
  await writeBoard(server, board, fanny.token, (doc) => {
    const frame = new Y.Map()
    const title = new Y.Text()
    title.insert(0, 'Modèle de restitution')
    frame.set('type', 'frame')
    frame.set('title', title)
    frame.set('xy', [-300, 160])
    frame.set('wh', [640, 240])
    frame.set('z', 'V')
    frame.set('createdBy', 'e2e')
    frame.set('createdAt', Date.now())
    doc.getMap('frames').set('f0000000-0000-4000-8000-000000000001', frame)
  })
  const frameTitle = f.page.locator('.frame', { hasText: 'Modèle de restitution' }).locator('.frame-title')
  await frameTitle.click()
  await f.page.keyboard.press('Control+Shift+L')
  const frameAtB = b.page.locator('.frame.locked', { hasText: 'Modèle de restitution' })
  await frameAtB.waitFor()
  await waitFor(async () => /verrouillé/.test(await frameAtB.getAttribute('aria-label')), { what: 'the frame\'s label to say it is locked' })
  await waitFor(async () => (await b.page.locator('.lock-badge').count()) === 1, { what: 'the frame\'s padlock' })
  const notesNow = await b.page.locator('.world .note').count()
  const titleBox = await b.page.locator('.frame', { hasText: 'Modèle de restitution' }).locator('.frame-title').boundingBox()
  await b.page.mouse.dblclick(titleBox.x + 40, titleBox.y + titleBox.height / 2)
  await b.page.locator('.note textarea').waitFor()
  await b.page.keyboard.type('Sur le modèle')
  await b.page.keyboard.press('Escape')
  assert.equal(await b.page.locator('.world .note').count(), notesNow + 1)
  assert.equal(await b.page.locator('.frame.selected').count(), 0, 'the locked frame was not selected')
  await noteAt(f, 'Sur le modèle').waitFor()
  await shot(b.page, 'facilitation-tools-locked-frame-bruno')

  // ---- the agenda ----------------------------------------------------------------------
  await f.page.locator('[data-panel="agenda-panel"]').click()
  const panel = f.page.locator('#agenda-panel')
  await panel.getByRole('heading', { name: 'Déroulé' }).waitFor()
  await definePhase(panel, 0, 'Écriture silencieuse', 5, ['Notes'])
  await definePhase(panel, 1, 'Regroupement', null, ['Notes', 'Groupes'])
  await shot(f.page, 'facilitation-tools-agenda')
  await panel.getByRole('button', { name: 'Commencer le déroulé' }).click()

  // Everyone sees the phase and the timer (started for its 5 minutes).
  for (const p of everyone) {
    const strip = p.page.locator('.facilitation-strip')
    await strip.locator('.phase-title', { hasText: 'Écriture silencieuse' }).waitFor()
    assert.equal((await strip.locator('.phase-step').textContent()).trim(), 'Phase 1/2')
    await waitFor(async () => { const s = await timerSeconds(p.page); return s <= 300 && s >= 290 }, { what: `${p.name}: the timer near 5:00` })
  }
  await tess.page.locator('.facilitation-strip', { hasText: 'Vous pouvez ajouter des notes.' }).waitFor()
  await shot(tess.page, 'facilitation-tools-phase1-tablet')
  await shot(f.page, 'facilitation-tools-phase1-fanny')
  await shot(b.page, 'facilitation-tools-phase1-bruno')

  // Groups are not allowed: the button says so and does nothing; notes are.
  const clusterAtTess = tess.page.locator('[data-tool="cluster"]')
  await waitFor(async () => (await clusterAtTess.getAttribute('aria-disabled')) === 'true', { what: 'the group button disabled for Tess' })
  assert.match(await clusterAtTess.getAttribute('title'), /Écriture silencieuse/)
  await clusterAtTess.tap({ force: true }) // (aria-disabled: still a target, that says why)
  await tess.page.locator('.facilitation-toast', { hasText: 'ne permet pas d’ajouter des groupes' }).waitFor()
  assert.equal(await tess.page.locator('.world .cluster').count(), 0, 'no group made')
  assert.equal(await b.page.locator('[data-draw-tool="pen"]').getAttribute('aria-disabled'), 'true', 'no drawing for Bruno')
  await b.page.locator('.canvas').focus()
  await b.page.keyboard.press('p')
  assert.equal(await b.page.locator('[data-draw-tool="pen"]').getAttribute('aria-pressed'), 'false', 'P does not take the pen')
  const notesBefore = await f.page.locator('.world .note').count()
  const spot = await canvasPoint(tess.page, 0, 220)
  await tess.page.touchscreen.tap(spot.x, spot.y)
  await tess.page.touchscreen.tap(spot.x, spot.y)
  await tess.page.locator('.note textarea').waitFor()
  await tess.page.keyboard.type('Pistes cyclables')
  await noteAt(f, 'Pistes cyclables').waitFor()
  assert.equal(await f.page.locator('.world .note').count(), notesBefore + 1)
  await sleep(800)

  // The timer: the facilitator pauses it, adds a minute, starts it again; the others follow.
  const strip = f.page.locator('.facilitation-strip')
  await strip.getByRole('button', { name: 'Mettre le minuteur en pause' }).click()
  for (const p of [b, tess]) await p.page.locator('.facilitation-strip .timer-state', { hasText: 'En pause' }).waitFor()
  const paused = await timerSeconds(b.page)
  await sleep(1500)
  assert.equal(await timerSeconds(b.page), paused, 'a paused timer does not move')
  await strip.getByRole('button', { name: '+1 min' }).click()
  await waitFor(async () => (await timerSeconds(b.page)) === paused + 60, { what: 'Bruno to see the minute added' })
  await waitFor(async () => (await timerSeconds(tess.page)) === paused + 60, { what: 'Tess to see the minute added' })
  await shot(tess.page, 'facilitation-tools-timer-paused-tablet')
  await strip.getByRole('button', { name: 'Lancer le minuteur' }).click()
  await waitFor(async () => (await b.page.locator('.facilitation-strip .timer-state').isHidden()) && (await timerSeconds(b.page)) < paused + 60, { what: 'Bruno to see the timer running again' })
  const [atF, atB, atT] = await Promise.all([f, b, tess].map((p) => timerSeconds(p.page)))
  // (The tablet's fast clock included: within the second of a reading and the clock estimate.)
  assert.ok(Math.max(atF, atB, atT) - Math.min(atF, atB, atT) <= 2, `everyone shows the same time (${atF}, ${atB}, ${atT})`)

  // Next phase: groups are allowed; the timer of the first phase goes (the second has none).
  await strip.getByRole('button', { name: 'Phase suivante' }).click()
  for (const p of everyone) await p.page.locator('.facilitation-strip .phase-title', { hasText: 'Regroupement' }).waitFor()
  await waitFor(async () => (await clusterAtTess.getAttribute('aria-disabled')) !== 'true', { what: 'the group button enabled for Tess' })
  assert.equal(await tess.page.locator('.facilitation-strip .timer').isHidden(), true, 'the first phase\'s timer is gone')
  await tess.page.locator('.facilitation-strip', { hasText: 'Vous pouvez ajouter des notes et des groupes.' }).waitFor()
  await clusterAtTess.tap()
  await tess.page.locator('.world .cluster').waitFor()
  await f.page.locator('.world .cluster').waitFor()
  await shot(tess.page, 'facilitation-tools-phase2-tablet')

  // ---- versions ------------------------------------------------------------------------
  await f.page.locator('[data-panel="versions-panel"]').click()
  const versions = f.page.locator('#versions-panel')
  await versions.locator('.version', { hasText: 'Changement de phase : Écriture silencieuse' }).waitFor()
  await versions.locator('.version', { hasText: 'Changement de phase : Regroupement' }).waitFor()
  await versions.getByLabel('Nom de la version').fill('Avant le vote')
  await versions.getByRole('button', { name: 'Garder une version' }).click()
  await versions.locator('.version', { hasText: 'Avant le vote' }).waitFor()
  assert.equal(await versions.locator('.version').count(), 3)
  assert.match(await versions.locator('.version', { hasText: 'Avant le vote' }).textContent(), /vous/, 'the author is named')
  await shot(f.page, 'facilitation-tools-versions')

  // Viewed read-only: the board as it was when the first phase started (no "Pistes cyclables").
  await versions.getByRole('button', { name: 'Voir la version « Changement de phase : Écriture silencieuse »' }).click()
  const dialog = f.page.getByRole('dialog', { name: 'Changement de phase : Écriture silencieuse' })
  await dialog.locator('.snap-note', { hasText: 'Consigne' }).waitFor()
  assert.equal(await dialog.locator('.snap-note', { hasText: 'Pistes cyclables' }).count(), 0)
  await shot(f.page, 'facilitation-tools-version-view')
  const found = await audit(f.page)
  assert.deepEqual(found, [], `axe (version view):\n${found.join('\n')}`)
  await f.page.keyboard.press('Escape')
  await dialog.waitFor({ state: 'detached' })

  // Downloaded: a Yjs update any client loads, holding the board at that time.
  const [download] = await Promise.all([
    f.page.waitForEvent('download'),
    versions.getByRole('button', { name: 'Télécharger la version « Avant le vote »' }).click()
  ])
  assert.match(download.suggestedFilename(), /^atelier-mobilites-avant-le-vote-.*\.bin$/)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, new Uint8Array(readFileSync(await download.path())))
  const texts = [...doc.getMap('notes').values()].map((n) => n.get('text').toString())
  assert.ok(texts.includes('Pistes cyclables'), 'the kept version holds the notes of the board')
  assert.equal(doc.getMap('clusters').size, 1)
  assert.equal(doc.getMap('meta').get('phases').length, 2)

  // Accessibility of the panels and the strip.
  const inPanel = await audit(f.page)
  assert.deepEqual(inPanel, [], `axe (facilitator, versions panel):\n${inPanel.join('\n')}`)
  await f.page.locator('[data-panel="agenda-panel"]').click()
  await panel.getByRole('heading', { name: 'Déroulé' }).waitFor()
  const inAgenda = await audit(f.page)
  assert.deepEqual(inAgenda, [], `axe (facilitator, agenda panel):\n${inAgenda.join('\n')}`)
  const atTablet = await audit(tess.page)
  assert.deepEqual(atTablet, [], `axe (tablet participant):\n${atTablet.join('\n')}`)

  // The agenda ends: no phase, nothing limited.
  await panel.getByRole('button', { name: 'Terminer le déroulé' }).click()
  for (const p of [b, tess]) await p.page.locator('.facilitation-strip').waitFor({ state: 'hidden' })
  await waitFor(async () => (await b.page.locator('[data-draw-tool="pen"]').getAttribute('aria-disabled')) !== 'true', { what: 'drawing allowed again' })

  // A timer running out: everyone's strip says so and flashes (Tess has the chime on).
  await panel.getByLabel('Durée du minuteur (minutes)').fill('3')
  await panel.getByRole('button', { name: 'Lancer le minuteur' }).click()
  await tess.page.locator('.facilitation-strip .timer').waitFor()
  await tess.page.getByRole('button', { name: 'Son à la fin du minuteur' }).tap()
  assert.equal(await tess.page.getByRole('button', { name: 'Son à la fin du minuteur' }).getAttribute('aria-pressed'), 'true')
  // (Three seconds rather than minutes: written as the schema says by a stock client.)
  await writeBoard(server, board, fanny.token, (doc) => doc.getMap('meta').set('timer', { durationMs: 3000, startedAt: Date.now(), elapsedMs: 0 }))
  for (const p of everyone) {
    await p.page.locator('.facilitation-strip .timer.timer-cue[data-state="ended"]').waitFor({ timeout: 10_000 })
    assert.equal((await p.page.locator('.facilitation-strip .timer-state').textContent()).trim(), 'Temps écoulé')
    assert.equal((await p.page.locator('.facilitation-strip .timer-time').textContent()).trim(), '0:00')
  }
  await shot(tess.page, 'facilitation-tools-time-up-tablet')

  // In English, everything follows.
  await f.page.getByRole('button', { name: 'English' }).click()
  await f.page.locator('#agenda-panel').getByRole('heading', { name: 'Agenda' }).waitFor()
  await f.page.locator('.facilitation-strip .timer-state', { hasText: 'Time is up' }).waitFor()
  assert.equal(await f.page.locator('[data-tool="lock"]').getAttribute('title'), 'Lock (Ctrl+Shift+L)')
  await shot(f.page, 'facilitation-tools-english')

  for (const p of everyone) assert.deepEqual(p.errors, [], `${p.name}: no errors in the page`)
})
