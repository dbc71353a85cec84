// The post-it workshop (kind `postit`) end to end, as a facilitator runs it with two
// participants (one a guest by invite on a 768×1024 touch tablet): the facilitator sets the
// agenda (a silent writing phase, grouping, vote) in the agenda panel; each participant writes
// their notes privately (the other does not receive them); the facilitator reveals them, asks
// Atelier for clustering suggestions (board/suggestions.ts, docs/clustering.md), edits a title,
// removes a note from a suggestion and accepts it (one cluster, the notes in a grid, one undo
// step), takes a note out of the other and accepts it by keyboard; then a dot vote with 3 dots
// each (a 4th is refused), totals hidden while it is open and shown to everyone once it is closed.
// A second test: the empty state, "Tout accepter", rejecting, and the English panel.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { sleep, waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { addCluster, addNote, writeBoard } from '../lib/boards.js'
import { canvasPoint, definePhase, joinAsGuest, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

// Invented post-its of a workshop on daily life in a rural area: buses, bikes, school canteens.
const BRUNO_NOTES = [
  'Plus de bus le soir pour rentrer du lycée',
  'Des horaires de bus adaptés aux horaires de travail',
  'Pistes cyclables sécurisées entre les villages',
  'Le bus scolaire passe trop tôt le matin',
  'Des produits locaux à la cantine',
  'Les producteurs locaux livrent la cantine du collège',
  'Réduire le gaspillage à la cantine'
]
const CAMILLE_NOTES = [
  'Un arrêt de bus près de la maison de santé',
  'Garer son vélo en sécurité à la gare',
  'Vélos électriques en location à la gare',
  'Un marché de producteurs le samedi',
  'Menus de la cantine avec des produits bio et locaux',
  'Location de vélos pour les jeunes'
]
const FOOD = ['Des produits locaux à la cantine', 'Les producteurs locaux livrent la cantine du collège', 'Réduire le gaspillage à la cantine', 'Menus de la cantine avec des produits bio et locaux']
const BUSES = ['Plus de bus le soir pour rentrer du lycée', 'Des horaires de bus adaptés aux horaires de travail', 'Le bus scolaire passe trop tôt le matin', 'Un arrêt de bus près de la maison de santé']

/** The world rectangle of an element positioned by translate() and sized by its style. */
async function worldRect (locator) {
  const { x, y } = await notePosition(locator)
  const size = await locator.evaluate((el) => [el.offsetWidth, el.offsetHeight])
  return { x, y, w: size[0], h: size[1] }
}

const inside = (r, outer) => r.x >= outer.x && r.y >= outer.y && r.x + r.w <= outer.x + outer.w && r.y + r.h <= outer.y + outer.h

e2eTest('a post-it workshop: silent writing, reveal, clustering suggestions, dot vote', { timeout: 240_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Vivre au village', ['bruno'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  await openBoard(f, server, board)
  const b = await participantPage(launched, server, { name: 'bruno', token: org.tokenOf('bruno') })
  await openBoard(b, server, board)
  // Camille is a guest by invite, on a touch tablet.
  const invite = await org.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'editor', expires_in_secs: 3600 }, expect: 201 })
  const c = await participantPage(launched, server, { name: 'camille', contextOptions: TABLET })
  await joinAsGuest(c.page, invite.body.url, 'Camille', { tap: true })
  const everyone = [f, b, c]

  // Only the facilitator has the suggestions button (in the kind's toolbar group).
  await f.page.locator('[data-panel="suggestions-panel"]').waitFor()
  assert.equal(await f.page.locator('.kind-tools [data-panel="suggestions-panel"]').count(), 1)
  for (const p of [b, c]) {
    assert.equal(await p.page.locator('[data-panel="suggestions-panel"]').isHidden(), true, `${p.name}: no suggestions button`)
    assert.equal(await p.page.locator('.kind-tools').isHidden(), true, `${p.name}: no empty kind group`)
  }

  // ---- the agenda ----------------------------------------------------------------------
  await f.page.locator('[data-panel="agenda-panel"]').click()
  const agenda = f.page.locator('#agenda-panel')
  await agenda.getByRole('heading', { name: 'Déroulé' }).waitFor()
  await definePhase(agenda, 0, 'Écrire seul·e', 8, ['Notes'], true)
  await definePhase(agenda, 1, 'Regrouper', 10, ['Notes', 'Groupes'])
  await definePhase(agenda, 2, 'Voter', 5, [])
  await shot(f.page, 'kind-postit-agenda')
  await agenda.getByRole('button', { name: 'Commencer le déroulé' }).click()
  for (const p of everyone) await p.page.locator('.facilitation-strip .phase-title', { hasText: 'Écrire seul·e' }).waitFor()
  for (const p of [b, c]) await p.page.locator('.silent-banner', { hasText: 'vos notes ne sont visibles que par vous' }).waitFor()
  await f.page.locator('[data-panel="agenda-panel"]').click()

  // ---- silent writing ------------------------------------------------------------------
  // Bruno double-clicks empty spots of his canvas and types (Escape ends each note).
  const brunoSpots = [[-460, -170], [-230, -170], [0, -170], [230, -170], [-460, 60], [-230, 60], [0, 60]]
  for (const [i, text] of BRUNO_NOTES.entries()) {
    const at = await canvasPoint(b.page, ...brunoSpots[i])
    await b.page.mouse.dblclick(at.x, at.y)
    await b.page.locator('.note textarea').waitFor().catch(async (e) => { await shot(b.page, 'kind-postit-debug-bruno'); throw e })
    await b.page.keyboard.type(text)
    await b.page.keyboard.press('Escape')
    await b.page.locator('.note.private', { hasText: text }).waitFor()
  }
  // Camille double-taps hers (and taps the background to finish each).
  const camilleSpots = [[-150, -120], [120, -120], [-150, 60], [120, 60], [-150, 240], [120, 240]]
  for (const [i, text] of CAMILLE_NOTES.entries()) {
    const at = await canvasPoint(c.page, ...camilleSpots[i])
    await c.page.touchscreen.tap(at.x, at.y)
    await c.page.touchscreen.tap(at.x, at.y)
    await c.page.locator('.note textarea').waitFor().catch(async (e) => { await shot(c.page, `kind-postit-debug-camille-${i}`); throw e })
    await c.page.keyboard.type(text)
    const away = await canvasPoint(c.page, 270, 150)
    await c.page.touchscreen.tap(away.x, away.y)
    await waitFor(async () => (await c.page.locator('.note textarea').count()) === 0, { what: 'Camille’s editor to close' })
    await c.page.locator('.note.private', { hasText: text }).waitFor()
    await sleep(450) // (the next double tap is a new gesture)
  }
  for (const p of [b, c]) await p.page.locator('.silent-state', { hasText: 'Notes privées enregistrées' }).waitFor()
  await sleep(1000)
  const bruno = await b.page.content()
  const camille = await c.page.content()
  const fanny0 = await f.page.content()
  for (const text of CAMILLE_NOTES) assert.ok(!bruno.includes(text), `Bruno does not receive « ${text} »`)
  for (const text of BRUNO_NOTES) assert.ok(!camille.includes(text), `Camille does not receive « ${text} »`)
  for (const text of [...BRUNO_NOTES, ...CAMILLE_NOTES]) assert.ok(!fanny0.includes(text), 'the facilitator receives none before the reveal')
  assert.equal(await b.page.locator('.note').count(), BRUNO_NOTES.length)
  assert.equal(await c.page.locator('.note').count(), CAMILLE_NOTES.length)
  await shot(b.page, 'kind-postit-silent-bruno')
  await shot(c.page, 'kind-postit-silent-camille-tablet')

  // ---- reveal, then the grouping phase -------------------------------------------------
  await f.page.getByRole('button', { name: 'Révéler les notes' }).click()
  await f.page.locator('.silent-result', { hasText: '13 notes de 2 participant·es révélées' }).waitFor()
  for (const p of everyone) await waitFor(async () => (await p.page.locator('.note').count()) === 13 && (await p.page.locator('.note.private').count()) === 0, { what: `${p.name} to see the 13 notes` })
  await f.page.locator('.facilitation-strip').getByRole('button', { name: 'Phase suivante' }).click()
  for (const p of everyone) await p.page.locator('.facilitation-strip .phase-title', { hasText: 'Regrouper' }).waitFor()

  // ---- clustering suggestions ----------------------------------------------------------
  const toggle = f.page.locator('[data-panel="suggestions-panel"]')
  assert.equal((await toggle.textContent()).trim(), 'Suggérer des groupes')
  await toggle.click()
  const panel = f.page.locator('#suggestions-panel')
  await panel.getByRole('heading', { name: 'Suggérer des groupes' }).waitFor()
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true')
  await waitFor(async () => (await panel.locator('.suggestion').count()) === 2, { what: 'two suggestions' })
  await panel.locator('.suggest-status', { hasText: '2 propositions (13 notes lues). 3 notes ne sont dans aucune proposition.' }).waitFor()
  assert.equal(await panel.getAttribute('aria-busy'), null)
  assert.equal(await panel.locator('.side-panel-body').getAttribute('aria-busy'), 'false')
  const food = panel.locator('.suggestion', { hasText: 'Les producteurs locaux livrent la cantine du collège' })
  const buses = panel.locator('.suggestion', { hasText: 'Le bus scolaire passe trop tôt le matin' })
  assert.equal(await food.getByLabel('Titre du groupe proposé').inputValue(), 'Cantine · locaux · producteurs')
  assert.equal(await buses.getByLabel('Titre du groupe proposé').inputValue(), 'Bus')
  assert.equal(await food.locator('.suggestion-note').count(), 5)
  // Grouped by meaning as well as by shared words: parking a bike at the station goes with the buses.
  assert.equal(await buses.locator('.suggestion-note').count(), 5)
  assert.equal(await buses.locator('.suggestion-note', { hasText: 'Garer son vélo en sécurité à la gare' }).count(), 1)
  assert.match(await food.locator('.suggestion-keywords').textContent(), /^Mots en commun : cantine, locaux, producteurs/)
  await shot(f.page, 'kind-postit-suggestions')
  const found = await audit(f.page)
  assert.deepEqual(found, [], `axe (suggestions panel):\n${found.join('\n')}`)

  // The facilitator edits the food group's title, takes the market out of it, accepts it.
  await food.getByLabel('Titre du groupe proposé').fill('Alimentation locale')
  await food.getByRole('button', { name: 'Retirer « Un marché de producteurs le samedi » de cette proposition' }).click()
  assert.equal(await food.locator('.suggestion-note').count(), 4)
  await food.getByRole('button', { name: 'Accepter la proposition « Alimentation locale »' }).click()
  await waitFor(async () => (await panel.locator('.suggestion').count()) === 1, { what: 'the accepted suggestion to leave the list' })
  // Focus goes on to the next suggestion (keyboard users keep their place).
  assert.equal(await f.page.evaluate(() => document.activeElement?.classList.contains('suggestion-title')), true)
  const clusterOf = (p, title) => p.page.locator('.cluster', { has: p.page.locator('.cluster-title', { hasText: title }) })
  for (const p of everyone) {
    await clusterOf(p, 'Alimentation locale').waitFor()
    await waitFor(async () => (await clusterOf(p, 'Alimentation locale').locator('.cluster-count').textContent()) === '4 notes', { what: `${p.name}: a cluster of 4 notes` })
  }
  // Its notes lie in it in a grid (two by two), the market stays out.
  const area = await worldRect(clusterOf(b, 'Alimentation locale'))
  const placed = []
  for (const text of FOOD) {
    const r = await worldRect(b.page.locator('.note', { hasText: text }))
    assert.ok(inside(r, area), `« ${text} » lies in the cluster`)
    placed.push(r)
  }
  assert.equal(new Set(placed.map((r) => r.x)).size, 2, 'two columns')
  assert.equal(new Set(placed.map((r) => r.y)).size, 2, 'two rows')
  assert.ok(!inside(await worldRect(b.page.locator('.note', { hasText: 'Un marché de producteurs' })), area), 'the removed note stays out')
  await shot(f.page, 'kind-postit-accepted')

  // One undo step takes the whole acceptance back (cluster and moves), redo brings it again.
  const before = await notePosition(f.page.locator('.note', { hasText: 'Des produits locaux à la cantine' }))
  await f.page.locator('.canvas').focus()
  await f.page.keyboard.press('Control+z')
  await waitFor(async () => (await b.page.locator('.cluster').count()) === 0, { what: 'the undo to reach Bruno' })
  const undone = await notePosition(b.page.locator('.note', { hasText: 'Des produits locaux à la cantine' }))
  assert.notDeepEqual(undone, before, 'the note went back to where it was written')
  await f.page.keyboard.press('Control+Shift+z')
  await waitFor(async () => (await clusterOf(c, 'Alimentation locale').count()) === 1, { what: 'the redo to reach Camille' })
  await waitFor(async () => (await clusterOf(c, 'Alimentation locale').locator('.cluster-count').textContent()) === '4 notes', { what: 'the cluster with its 4 notes again' })
  assert.deepEqual(await notePosition(b.page.locator('.note', { hasText: 'Des produits locaux à la cantine' })), before)

  // The buses: the bike note taken out, then accepted by keyboard (Enter in its title).
  await buses.getByRole('button', { name: 'Retirer « Garer son vélo en sécurité à la gare » de cette proposition' }).click()
  await buses.getByLabel('Titre du groupe proposé').focus()
  await f.page.keyboard.press('Enter')
  await panel.locator('.suggest-status', { hasText: 'Toutes les propositions ont été traitées.' }).waitFor()
  for (const p of everyone) {
    await waitFor(async () => (await clusterOf(p, 'Bus').count()) === 1 &&
      (await clusterOf(p, 'Bus').locator('.cluster-count').textContent()) === '4 notes', { what: `${p.name}: the bus cluster` })
  }
  const busArea = await worldRect(clusterOf(c, 'Bus'))
  for (const text of BUSES) assert.ok(inside(await worldRect(c.page.locator('.note', { hasText: text })), busArea), `« ${text} » in the bus cluster`)
  assert.ok(!inside(await worldRect(c.page.locator('.note', { hasText: 'Garer son vélo' })), busArea), 'the removed note stays out')
  assert.ok(!inside(busArea, area) && !inside(area, busArea), 'the two clusters are apart')
  await shot(c.page, 'kind-postit-clusters-tablet')
  await f.page.locator('#suggestions-panel .side-panel-close').click()
  await waitFor(async () => await panel.isHidden(), { what: 'the panel to close' })

  // ---- the dot vote --------------------------------------------------------------------
  await f.page.locator('.facilitation-strip').getByRole('button', { name: 'Phase suivante' }).click()
  for (const p of everyone) await p.page.locator('.facilitation-strip .phase-title', { hasText: 'Voter' }).waitFor()
  await f.page.getByRole('button', { name: 'Vote par points' }).click()
  const votePanel = f.page.getByRole('dialog', { name: 'Vote par points' })
  const budget = votePanel.getByLabel('Points par participant·e')
  for (let i = 0; i < 2; i++) await votePanel.getByRole('button', { name: 'Un point de moins par participant·e' }).click()
  await waitFor(async () => (await budget.inputValue()) === '3', { what: 'a budget of 3 dots' })
  await votePanel.getByLabel('Masquer les totaux pendant le vote').check()
  await votePanel.getByRole('button', { name: 'Ouvrir le vote' }).click()
  await f.page.keyboard.press('Escape')
  const remaining = (p) => p.page.locator('.vote-remaining').textContent()
  const note = (p, text) => p.page.locator('.note', { hasText: text })
  const total = async (p, text) => {
    const el = note(p, text).locator('.note-total')
    return (await el.count()) === 0 ? 0 : Number((await el.textContent()).replace(/\D/g, ''))
  }
  for (const p of [b, c]) await waitFor(async () => (await remaining(p)) === '3 points restants sur 3', { what: `${p.name} to have 3 dots` })
  // The participants look at the whole board (the clusters were made beside their notes).
  await b.page.getByRole('button', { name: 'Tout afficher' }).click()
  await c.page.getByRole('button', { name: 'Tout afficher' }).tap()
  await sleep(500)

  // Bruno: two dots on local food at the canteen, one on the early school bus; a fourth is refused.
  await note(b, 'Des produits locaux à la cantine').getByRole('button', { name: 'Ajouter un point' }).click()
  await note(b, 'Des produits locaux à la cantine').getByRole('button', { name: 'Ajouter un point' }).click()
  await note(b, 'Le bus scolaire').getByRole('button', { name: 'Ajouter un point' }).click()
  await waitFor(async () => (await remaining(b)) === '0 point restant sur 3', { what: 'Bruno to have no dot left' })
  const fourth = note(b, 'Location de vélos').getByRole('button', { name: 'Ajouter un point' })
  await fourth.click({ force: true })
  assert.equal(await fourth.getAttribute('aria-disabled'), 'true', 'a 4th dot is refused')
  // Camille, by taps: two on the same note, one on the canteen menus; a fourth is refused.
  const tapDot = async (text) => {
    const n = note(c, text)
    const button = n.getByRole('button', { name: 'Ajouter un point' })
    await button.tap()
  }
  await tapDot('Des produits locaux à la cantine')
  await waitFor(async () => (await remaining(c)) === '2 points restants sur 3', { what: 'Camille’s first dot' })
  await tapDot('Des produits locaux à la cantine')
  await waitFor(async () => (await remaining(c)) === '1 point restant sur 3', { what: 'Camille’s second dot' })
  await tapDot('Menus de la cantine')
  await waitFor(async () => (await remaining(c)) === '0 point restant sur 3', { what: 'Camille to have no dot left' })
  const camilleFourth = note(c, 'Garer son vélo').getByRole('button', { name: 'Ajouter un point' })
  await camilleFourth.tap({ force: true })
  assert.equal(await camilleFourth.getAttribute('aria-disabled'), 'true')
  // Totals are hidden while the vote is open: each sees only their own dots.
  assert.equal(await b.page.locator('.note-total').count(), 0)
  assert.equal(await note(b, 'Des produits locaux à la cantine').locator('.my-dots .dot').count(), 2)
  assert.equal(await note(c, 'Des produits locaux à la cantine').locator('.my-dots .dot').count(), 2)
  await shot(c.page, 'kind-postit-vote-camille-tablet')

  // The facilitator closes the vote: everyone sees the results, on notes and clusters.
  await f.page.getByRole('button', { name: 'Vote par points' }).click()
  await votePanel.getByRole('button', { name: 'Clore le vote' }).click()
  await f.page.keyboard.press('Escape')
  for (const p of everyone) {
    await waitFor(async () => (await total(p, 'Des produits locaux à la cantine')) === 4 &&
      (await total(p, 'Menus de la cantine')) === 1 && (await total(p, 'Le bus scolaire')) === 1, { what: `${p.name}: the results` })
    assert.equal(await total(p, 'Location de vélos'), 0, 'the refused dots were not placed')
    assert.equal(await total(p, 'Garer son vélo'), 0)
    await waitFor(async () => (await clusterOf(p, 'Alimentation locale').locator('.cluster-votes').textContent()) === '5', { what: `${p.name}: 5 dots on local food` })
    await waitFor(async () => (await clusterOf(p, 'Bus').locator('.cluster-votes').textContent()) === '1', { what: `${p.name}: 1 dot on buses` })
    assert.equal(await p.page.getByRole('button', { name: 'Ajouter un point' }).count(), 0, `${p.name}: no voting once closed`)
  }
  await f.page.getByRole('button', { name: 'Tout afficher' }).click()
  await sleep(300)
  await shot(f.page, 'kind-postit-results')
  await shot(c.page, 'kind-postit-results-tablet')
  for (const p of everyone) assert.deepEqual(p.errors, [], `${p.name}: no errors in the page`)
})

e2eTest('clustering suggestions: too few notes, "Tout accepter" in one undo step, notes already in a cluster, English', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Petite session')
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  await writeBoard(server, board, fanny.token, (doc) => {
    addNote(doc, { x: 0, y: 0, text: 'Plus de bus le soir' })
    addNote(doc, { x: 240, y: 0, text: 'Un bus le dimanche' })
  })
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  await openBoard(f, server, board)
  const panel = f.page.locator('#suggestions-panel')
  // While the server computes (its answer held back a moment here), the panel says so.
  const endpoint = `**/api/v1/boards/${board}/suggestions/clusters`
  let release
  const held = new Promise((resolve) => { release = resolve })
  await f.page.route(endpoint, async (route) => { await held; await route.continue() })
  await f.page.locator('[data-panel="suggestions-panel"]').click()
  await panel.locator('.suggest-status.working', { hasText: 'Analyse des notes en cours…' }).waitFor()
  assert.equal(await panel.locator('.side-panel-body').getAttribute('aria-busy'), 'true')
  assert.equal(await panel.getByRole('button', { name: 'Proposer des groupes' }).isDisabled(), true)
  release()
  await panel.locator('.suggest-status', { hasText: 'Pas assez de notes : 2 notes hors groupe, il en faut au moins 3 pour proposer des groupes.' }).waitFor()
  await f.page.unroute(endpoint)
  assert.equal(await panel.locator('.side-panel-body').getAttribute('aria-busy'), 'false')
  assert.equal(await panel.locator('.suggestion').count(), 0)
  assert.equal(await panel.getByRole('button', { name: 'Tout accepter' }).isHidden(), true)
  await shot(f.page, 'kind-postit-suggestions-empty')

  // More notes (one already in a cluster): asked again, two suggestions; the clustered note is
  // only suggested when asked for, and then says where it is.
  await writeBoard(server, board, fanny.token, (doc) => {
    addNote(doc, { x: 0, y: 200, text: 'Le bus scolaire passe trop tôt' })
    addNote(doc, { x: 240, y: 200, text: 'Des produits locaux à la cantine' })
    addNote(doc, { x: 0, y: 400, text: 'Les producteurs livrent la cantine' })
    addNote(doc, { x: 240, y: 400, text: 'Des menus de saison à la cantine' })
    const cid = addCluster(doc, { x: 900, y: 1000, w: 480, h: 360, title: 'Transports' })
    addNote(doc, { x: 1000, y: 1080, text: 'Bus de nuit le samedi', parent: cid })
  })
  // A failed request says so (the network cut here), and asking again works.
  await f.page.route(endpoint, (route) => route.abort('connectionfailed'))
  await panel.getByRole('button', { name: 'Relancer la suggestion' }).click()
  await panel.getByRole('alert').filter({ hasText: 'Le serveur ne répond pas' }).waitFor()
  await f.page.unroute(endpoint)
  await panel.getByRole('button', { name: 'Relancer la suggestion' }).click()
  await waitFor(async () => (await panel.locator('.suggestion').count()) === 2, { what: 'two suggestions' })
  assert.equal(await panel.locator('.suggest-error').isHidden(), true, 'the error is gone')
  assert.equal(await panel.locator('.suggestion', { hasText: 'Bus de nuit le samedi' }).count(), 0)

  // "Tout accepter": two clusters in one transaction, one undo step.
  await panel.getByRole('button', { name: 'Tout accepter' }).click()
  await panel.locator('.suggest-status', { hasText: 'Toutes les propositions ont été traitées.' }).waitFor()
  await waitFor(async () => (await f.page.locator('.cluster').count()) === 3, { what: 'two new clusters' })
  const counts = await f.page.locator('.cluster-count').allTextContents()
  assert.deepEqual(counts.sort(), ['1 note', '3 notes', '3 notes'])
  await shot(f.page, 'kind-postit-accept-all')
  await f.page.locator('.canvas').focus()
  await f.page.keyboard.press('Control+z')
  await waitFor(async () => (await f.page.locator('.cluster').count()) === 1, { what: 'one undo to take both back' })
  await f.page.keyboard.press('Control+Shift+z')
  await waitFor(async () => (await f.page.locator('.cluster').count()) === 3, { what: 'redo' })

  // Notes already in a cluster, when asked for: the panel says where each is.
  await panel.getByLabel('Inclure les notes déjà dans un groupe').check()
  await panel.getByRole('button', { name: 'Relancer la suggestion' }).click()
  await waitFor(async () => (await panel.locator('.suggestion-note-where:visible').count()) > 0, { what: 'notes said to be in a cluster' })
  assert.match(await panel.locator('.suggestion-note-where:visible').first().textContent(), /^déjà dans « .+ »$/)
  // Rejecting a suggestion only dismisses it: the board does not change.
  const offered = await panel.locator('.suggestion').count()
  assert.ok(offered >= 2, `two suggestions or more, not ${offered}`)
  const first = panel.locator('.suggestion').first()
  const title = await first.getByLabel('Titre du groupe proposé').inputValue()
  await first.getByRole('button', { name: `Rejeter la proposition « ${title} »` }).click()
  await waitFor(async () => (await panel.locator('.suggestion').count()) === offered - 1, { what: 'the rejected suggestion to go' })
  assert.equal(await f.page.locator('.cluster').count(), 3)

  // In English.
  await f.page.getByRole('button', { name: 'English' }).click()
  await panel.getByRole('heading', { name: 'Suggest groups' }).waitFor()
  await panel.getByRole('button', { name: 'Ask again' }).waitFor()
  assert.match(await panel.locator('.suggestion-note-where:visible').first().textContent(), /^already in “.+”$/)
  assert.equal((await f.page.locator('[data-panel="suggestions-panel"]').textContent()).trim(), 'Suggest groups')
  await shot(f.page, 'kind-postit-suggestions-english')
  const found = await audit(f.page)
  assert.deepEqual(found, [], `axe (English panel):\n${found.join('\n')}`)
  // (The cut request's own console line aside.)
  assert.deepEqual(f.errors.filter((e) => !e.includes('net::ERR_CONNECTION_FAILED')), [])
})
