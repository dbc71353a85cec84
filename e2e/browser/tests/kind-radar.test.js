// Radar du futur (kinds/radar.ts): a facilitator and two participants, one a guest who joined by
// invitation on a 768×1024 touch tablet. Signals posted with the "Ajouter un signal" form land in
// the chosen theme and horizon (their `slot`, read back by a stock Yjs client), a drag moves a
// signal to another cell and its slot follows, a comment reaches the others (and its author may take it back), the facilitator hides
// a signal (gone for participants: canvas and outline; dimmed with "Rétablir" for the facilitator)
// and brings it back, limits the posts per minute, and merges two signals into one.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { writeBoard } from '../lib/boards.js'
import { joinAsGuest, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

/** The note (a Y.Map) whose text contains `text`, in a stock client's doc: [id, note] or null. */
function find (doc, text) {
  for (const [id, note] of doc.getMap('notes').entries()) {
    if (String(note.get('text')).includes(text)) return [id, note]
  }
  return null
}

/** Fills and submits the signal form of the open "Signaux" panel. */
async function postSignal (p, { text, source, date, confidence, sector, ring }, { touch = false } = {}) {
  const page = p.page
  const add = page.getByRole('button', { name: 'Ajouter un signal' }).first()
  if (touch) await add.tap()
  else await add.click()
  const form = page.locator('.radar-composer')
  await form.getByLabel('Le signal').fill(text)
  if (source) await form.getByLabel('Source (lien ou référence)').fill(source)
  if (date) await form.getByLabel('Date').fill(date)
  if (confidence) await form.getByLabel('Confiance').selectOption({ label: confidence })
  await form.getByLabel('Thème').selectOption({ label: sector })
  await form.getByLabel('Horizon').selectOption({ label: ring })
  const submit = form.getByRole('button', { name: 'Ajouter le signal' })
  if (touch) await submit.tap()
  else await submit.click()
}

/** Drags a note with the mouse so that its centre lands on world point (x, y). */
async function dragTo (page, locator, x, y) {
  const box = await locator.boundingBox()
  const at = await notePosition(locator)
  const w = await locator.evaluate((el) => parseFloat(el.style.width))
  const scale = box.width / w
  const from = { x: box.x + box.width / 2, y: box.y + box.height / 3 }
  const cx = at.x + w / 2
  const cy = at.y + (box.height / scale) / 2
  await page.mouse.move(from.x, from.y)
  await page.mouse.down()
  await page.mouse.move(from.x + (x - cx) * scale, from.y + (y - cy) * scale, { steps: 12 })
  await page.mouse.up()
}

/** Opens the "Signaux" panel (if closed) after selecting a note. */
async function openSignals (page, { touch = false } = {}) {
  const toggle = page.locator('button[data-panel="radar-panel"]')
  if (await toggle.getAttribute('aria-expanded') !== 'true') {
    if (touch) await toggle.tap()
    else await toggle.click()
  }
}

e2eTest('radar du futur: signals land in their theme and horizon, comments, hiding and merging', { timeout: 240_000 }, async (h) => {
  const server = await h.startServer()
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const [bruno] = await h.participants(server, ['bruno'])
  const org = await h.tenancy(server)
  const board = await org.createBoard(server, 'Radar Pays de la Loire 2040', { kind: 'radar' })
  // As the first editor to open the board writes them.
  await writeBoard(server, board, fanny.token, (doc) => {
    doc.getMap('meta').set('schema', 1)
    doc.getMap('meta').set('kind', 'radar')
  })
  const invite = await org.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'editor', expires_in_secs: 3600 }, expect: 201 })

  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const b = await participantPage(launched, server, { name: 'bruno', token: bruno.token })
  await openBoard(f, server, board)
  await openBoard(b, server, board)
  const guest = await participantPage(launched, server, { name: 'guest', contextOptions: TABLET })
  const g = guest.page
  await joinAsGuest(g, invite.body.url, 'Inès', { tap: true })
  const everyone = [f, b, guest]
  const watcher = h.client(server, board, { token: fanny.token })
  await watcher.synced()
  const doc = watcher.doc

  // The radar is drawn with its default themes and horizons, for everyone.
  for (const p of everyone) {
    await p.page.locator('.radar-layer .radar-ring-label', { hasText: 'Dans 10 ans' }).waitFor({ state: 'attached' })
    assert.equal(await p.page.locator('.radar-layer .radar-sector-label').count(), 4)
  }
  // Arriving, everyone sees the whole radar, its four themes included (the tablet too).
  for (const p of everyone) {
    await waitFor(async () => {
      const view = await p.page.locator('.canvas').boundingBox()
      const labels = await p.page.locator('.radar-layer .radar-sector-label').evaluateAll((els) => els.map((el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height } }))
      return labels.every((r) => r.x >= view.x && r.y >= view.y && r.x + r.w <= view.x + view.width && r.y + r.h <= view.y + view.height)
    }, { what: `${p.name}: the whole radar in view` })
  }
  await shot(g, 'radar-guest-arrival')
  // Participants arrive with the signal form open; the facilitator with the whole canvas.
  await g.locator('.radar-composer').getByLabel('Le signal').waitFor()
  await b.page.locator('.radar-composer').getByLabel('Le signal').waitFor()
  assert.equal(await f.page.locator('button[data-panel="radar-panel"]').getAttribute('aria-expanded'), 'false')
  // Only the facilitator has the radar's settings.
  assert.equal(await b.page.locator('button[data-panel="radar-settings"]').isHidden(), true)
  assert.equal(await g.locator('button[data-panel="radar-settings"]').isHidden(), true)

  // ---- Bruno posts a signal with the form -------------------------------------------------
  await postSignal(b, { text: 'Des tiers-lieux dans chaque bourg', source: 'https://exemple.fr/tiers-lieux', date: '2026-03-14', confidence: 'forte', sector: 'Économie', ring: 'Dans 10 ans' })
  await waitFor(() => find(doc, 'tiers-lieux') !== null, { what: 'Bruno\'s signal to reach the server' })
  let [tiersId, tiers] = find(doc, 'tiers-lieux')
  await waitFor(() => tiers.get('slot') !== undefined, { what: 'the slot of Bruno\'s signal' })
  assert.deepEqual(tiers.get('slot'), { sector: 's2', ring: 'r3' })
  assert.equal(tiers.get('source'), 'https://exemple.fr/tiers-lieux')
  assert.equal(tiers.get('date'), '2026-03-14')
  assert.equal(tiers.get('confidence'), 'high')
  for (const p of everyone) await p.page.locator('.world .note', { hasText: 'tiers-lieux' }).waitFor()
  assert.match(await f.page.locator('.world .note', { hasText: 'tiers-lieux' }).locator('.radar-badge').textContent(), /Confiance forte/)

  // ---- Inès, on the tablet, posts one with her fingers ------------------------------------------
  await postSignal(guest, { text: 'Bus à hydrogène en zone rurale', source: 'Ouest-France', date: '2026-02-01', confidence: 'faible', sector: 'Environnement', ring: 'Aujourd’hui' }, { touch: true })
  await waitFor(() => find(doc, 'hydrogène') !== null && find(doc, 'hydrogène')[1].get('slot') !== undefined, { what: 'Inès\'s signal' })
  const [busId, bus] = find(doc, 'hydrogène')
  assert.deepEqual(bus.get('slot'), { sector: 's3', ring: 'r1' })
  assert.equal(bus.get('confidence'), 'low')
  const guestId = bus.get('createdBy')
  await b.page.locator('.world .note', { hasText: 'hydrogène' }).waitFor()
  await shot(g, 'radar-guest-tablet')

  // ---- a drag moves Bruno's signal to "Société, Dans 5 ans": its slot follows --------------------
  // (Sector 1 is the first quarter clockwise from the top; ring 2 lies between 440 and 880.)
  await b.page.locator('button[data-panel="radar-panel"][aria-expanded="true"]').click()
  const bNote = b.page.locator('.world .note', { hasText: 'tiers-lieux' })
  // The page shows the whole radar when the board arrives: zoom in once (around the centre).
  await b.page.getByRole('button', { name: 'Zoom avant' }).click()
  await dragTo(b.page, bNote, 420, -420)
  await waitFor(() => tiers.get('slot')?.sector === 's1', { what: 'the slot to follow the drag' });
  [tiersId, tiers] = find(doc, 'tiers-lieux')
  assert.deepEqual(tiers.get('slot'), { sector: 's1', ring: 'r2' })

  // ---- Inès comments on Bruno's signal; Bruno and Fanny see it ----------------------------------
  const gNote = g.locator('.world .note', { hasText: 'tiers-lieux' })
  await g.locator('#radar-panel .side-panel-close').tap()
  await g.getByRole('button', { name: 'Tout afficher' }).tap()
  await gNote.tap()
  await openSignals(g, { touch: true })
  const details = g.locator('.radar-details')
  await details.locator('.radar-text', { hasText: 'tiers-lieux' }).waitFor()
  await details.getByLabel('Votre commentaire').fill('Il y en a déjà un à La Flèche')
  await details.getByRole('button', { name: 'Commenter' }).tap()
  await details.locator('.radar-comment', { hasText: 'La Flèche' }).waitFor()
  await shot(g, 'radar-guest-comment')
  const inDetails = await audit(g)
  assert.deepEqual(inDetails, [], `axe (guest, signal details):\n${JSON.stringify(inDetails, null, 1)}`)
  await b.page.getByRole('button', { name: 'Tout afficher' }).click()
  await bNote.click()
  await openSignals(b.page)
  const bComment = b.page.locator('.radar-details .radar-comment', { hasText: 'La Flèche' })
  await bComment.waitFor()
  assert.match(await bComment.textContent(), /Inès/)
  // Bruno types a comment while Inès adds another: his text stays, hers shows up, then his reaches her.
  const bBox = b.page.locator('.radar-details').getByLabel('Votre commentaire')
  await bBox.fill('Et une à Saumur')
  await details.getByLabel('Votre commentaire').fill('Ouvert le samedi')
  await details.getByRole('button', { name: 'Commenter' }).tap()
  await b.page.locator('.radar-details .radar-comment', { hasText: 'Ouvert le samedi' }).waitFor()
  assert.equal(await bBox.inputValue(), 'Et une à Saumur')
  assert.equal(await bBox.evaluate((el) => el === document.activeElement), true, 'the comment box keeps the focus')
  await b.page.locator('.radar-details').getByRole('button', { name: 'Commenter' }).click()
  await details.locator('.radar-comment', { hasText: 'Saumur' }).waitFor()
  await details.getByRole('heading', { name: 'Commentaires (3)' }).waitFor()
  await f.page.locator('.world .note', { hasText: 'tiers-lieux' }).locator('.radar-badge', { hasText: '3 commentaires' }).waitFor()
  const comments = tiers.get('comments').toArray()
  assert.deepEqual(comments.map((c) => c.by), [guestId, guestId, String(bruno.id)])
  // Bruno takes his own comment back (Inès's have no "Supprimer" for him; she has one on each of
  // hers), then writes it again.
  const bComments = b.page.locator('.radar-details .radar-comments')
  assert.equal(await bComments.locator('.radar-comment-remove').count(), 1)
  assert.equal(await details.locator('.radar-comments .radar-comment-remove').count(), 2)
  await bComments.locator('.radar-comment', { hasText: 'Saumur' }).getByRole('button', { name: /^Supprimer le commentaire de / }).click()
  await details.getByRole('heading', { name: 'Commentaires (2)' }).waitFor()
  assert.equal(await details.locator('.radar-comment', { hasText: 'Saumur' }).count(), 0)
  await waitFor(async () => await bBox.evaluate((el) => el === document.activeElement), { what: 'the focus on Bruno’s comment box' })
  assert.deepEqual(tiers.get('comments').toArray().map((c) => c.by), [guestId, guestId])
  await bBox.fill('Et une à Saumur')
  await b.page.locator('.radar-details').getByRole('button', { name: 'Commenter' }).click()
  await details.getByRole('heading', { name: 'Commentaires (3)' }).waitFor()
  await waitFor(() => tiers.get('comments').length === 3, { what: 'the comment again' })
  assert.deepEqual(tiers.get('comments').toArray().map((c) => c.by), [guestId, guestId, String(bruno.id)])

  // ---- the facilitator hides Inès's signal, then restores it -----------------------------------------
  const fBus = f.page.locator('.world .note', { hasText: 'hydrogène' })
  await f.page.getByRole('button', { name: 'Tout afficher' }).click()
  await fBus.click()
  await openSignals(f.page)
  await f.page.locator('.radar-details').getByRole('button', { name: 'Masquer le signal' }).click()
  await waitFor(() => bus.get('hidden') === true, { what: 'hidden to reach the server' })
  for (const p of [b, guest]) {
    await waitFor(async () => (await p.page.locator('.world .note', { hasText: 'hydrogène' }).count()) === 0, { what: `${p.name}: the hidden signal to go` })
  }
  // Nor in Bruno's outline (the list a screen reader walks).
  await b.page.locator('button[aria-controls="board-outline"]').click()
  await b.page.locator('.outline-item', { hasText: 'tiers-lieux' }).waitFor()
  assert.equal(await b.page.locator('.outline-item', { hasText: 'hydrogène' }).count(), 0)
  // The facilitator still sees it, dimmed, and can bring it back.
  assert.equal(await fBus.evaluate((el) => el.classList.contains('moderated')), true)
  assert.match(await fBus.getAttribute('aria-label'), /masqué par l’animation/)
  await shot(f.page, 'radar-facilitator-hidden')
  const inHidden = await audit(f.page)
  assert.deepEqual(inHidden, [], `axe (facilitator, hidden signal):\n${JSON.stringify(inHidden, null, 1)}`)
  await f.page.locator('.radar-details').getByRole('button', { name: 'Rétablir' }).click()
  for (const p of [b, guest]) await p.page.locator('.world .note', { hasText: 'hydrogène' }).waitFor()
  await b.page.locator('.outline-item', { hasText: 'hydrogène' }).waitFor()
  assert.equal(bus.get('hidden'), undefined)

  // ---- the facilitator limits posts: two a minute ------------------------------------------------------
  await f.page.locator('button[data-panel="radar-settings"]').click()
  const settings = f.page.locator('#radar-settings')
  await settings.getByLabel('Signaux par minute et par participant').fill('2')
  await settings.getByLabel('Thème 4').fill('Gouvernance')
  await settings.getByRole('button', { name: 'Enregistrer le radar' }).click()
  await waitFor(() => doc.getMap('meta').get('addsPerMinute') === 2, { what: 'the limit to reach the server' })
  const inSettings = await audit(f.page)
  assert.deepEqual(inSettings, [], `axe (facilitator, radar settings):\n${JSON.stringify(inSettings, null, 1)}`)
  await g.locator('.radar-layer .radar-sector-label', { hasText: 'Gouvernance' }).waitFor({ state: 'attached' })
  // Inès posted one a moment ago: one more passes, the next is refused with a clear message.
  await postSignal(guest, { text: 'Cantines 100 % locales', sector: 'Société', ring: 'Dans 5 ans' }, { touch: true })
  await b.page.locator('.world .note', { hasText: 'Cantines' }).waitFor()
  await postSignal(guest, { text: 'Télétravail dans les gares', sector: 'Gouvernance', ring: 'Dans 5 ans' }, { touch: true })
  await g.locator('.radar-composer [role="alert"]', { hasText: 'Vous avez déjà posté 2 signaux cette minute' }).waitFor()
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(find(doc, 'Télétravail'), null)
  await shot(g, 'radar-guest-limit')

  // ---- votes, then the facilitator merges two signals --------------------------------------------------
  doc.transact(() => doc.getMap('meta').set('votingOpen', true))
  await waitFor(async () => (await b.page.locator('.world .note', { hasText: 'Cantines' }).locator('.vote-add').count()) === 1, { what: 'the vote to open for Bruno' })
  await b.page.locator('.world .note', { hasText: 'Cantines' }).locator('.vote-add').click()
  await b.page.locator('.world .note', { hasText: 'tiers-lieux' }).locator('.vote-add').click()
  await g.locator('.world .note', { hasText: 'tiers-lieux' }).locator('.vote-add').tap()
  await waitFor(() => {
    const v1 = find(doc, 'Cantines')[1].get('votes')
    const v2 = find(doc, 'tiers-lieux')[1].get('votes')
    return v1.get(String(bruno.id)) === 1 && v2.get(String(bruno.id)) === 1 && v2.get(guestId) === 1
  }, { what: 'the dots' })
  const fTiers = f.page.locator('.world .note', { hasText: 'tiers-lieux' })
  const fCantines = f.page.locator('.world .note', { hasText: 'Cantines' })
  await f.page.getByRole('button', { name: 'Tout afficher' }).click()
  await fTiers.click()
  await fCantines.click({ modifiers: ['Shift'] })
  await openSignals(f.page)
  await f.page.locator('.radar-merge').getByRole('button', { name: 'Fusionner les deux signaux' }).click()
  await waitFor(() => find(doc, 'Cantines') !== null && find(doc, 'tiers-lieux') !== null && find(doc, 'Cantines')[0] === find(doc, 'tiers-lieux')[0], { what: 'the merge' })
  const [mergedId, merged] = find(doc, 'tiers-lieux')
  assert.equal(mergedId, tiersId, 'the older signal stays')
  assert.equal([...doc.getMap('notes').keys()].length, 2)
  assert.equal(merged.get('votes').get(String(bruno.id)), 2, 'Bruno\'s dots are summed')
  assert.equal(merged.get('votes').get(guestId), 1)
  assert.equal(merged.get('source'), 'https://exemple.fr/tiers-lieux')
  assert.equal(merged.get('comments').length, 3)
  for (const p of everyone) {
    await waitFor(async () => (await p.page.locator('.world .note').count()) === 2, { what: `${p.name}: two notes after the merge` })
  }
  await b.page.locator('.world .note', { hasText: 'Cantines' }).locator('.radar-badge', { hasText: '3 commentaires' }).waitFor()
  await shot(f.page, 'radar-facilitator-merged')
  await shot(b.page, 'radar-bruno')
  assert.ok(busId)
  watcher.destroy()
  assert.deepEqual(everyone.flatMap((p) => p.errors), [])
})

e2eTest('radar du futur: during silent writing the form posts privately; dots on a hidden signal do not count', { timeout: 180_000 }, async (h) => {
  const server = await h.startServer()
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const [bruno] = await h.participants(server, ['bruno'])
  const org = await h.tenancy(server)
  const board = await org.createBoard(server, 'Radar en silence', { kind: 'radar' })
  await writeBoard(server, board, fanny.token, (doc) => {
    doc.getMap('meta').set('schema', 1)
    doc.getMap('meta').set('kind', 'radar')
    doc.getMap('meta').set('phases', [
      { id: 'ecrire', title: 'Écrire seul·e', minutes: 5, allow: ['notes'], private: true },
      { id: 'voter', title: 'Voter' }
    ])
    doc.getMap('meta').set('phase', 'ecrire')
  })
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const b = await participantPage(launched, server, { name: 'bruno', token: bruno.token })
  await openBoard(f, server, board)
  await openBoard(b, server, board)
  const watcher = h.client(server, board, { token: fanny.token })
  await watcher.synced()
  const doc = watcher.doc
  const meta = doc.getMap('meta')

  // ---- silent writing: the form's signals go to Bruno's private document, like any new note --
  await b.page.locator('.silent-banner', { hasText: 'Écriture silencieuse' }).waitFor()
  await postSignal(b, { text: 'Covoiturage solidaire entre villages', source: 'Mairie de Saumur', sector: 'Société', ring: 'Dans 5 ans' })
  await b.page.locator('.world .note.private', { hasText: 'Covoiturage' }).waitFor()
  await b.page.locator('.board-toast', { hasText: 'visible par vous seul·e jusqu’à la révélation' }).waitFor()
  await postSignal(b, { text: 'Fermes urbaines sur les toits', sector: 'Environnement', ring: 'Aujourd’hui' })
  await b.page.locator('.world .note.private', { hasText: 'Fermes' }).waitFor()
  await b.page.locator('.silent-state', { hasText: 'Notes privées enregistrées' }).waitFor()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  assert.equal(find(doc, 'Covoiturage'), null, 'not on the shared board')
  assert.equal(find(doc, 'Fermes'), null, 'not on the shared board')
  assert.ok(!(await f.page.content()).includes('Covoiturage'), 'the facilitator does not receive it')
  await shot(b.page, 'radar-silent-private')
  // The reveal brings them to everyone, with their metadata and their slot.
  await f.page.getByRole('button', { name: 'Révéler les notes' }).click()
  await waitFor(() => find(doc, 'Covoiturage') !== null && find(doc, 'Fermes') !== null, { what: 'the reveal' })
  const [, cov] = find(doc, 'Covoiturage')
  assert.deepEqual(cov.get('slot'), { sector: 's1', ring: 'r2' })
  assert.equal(cov.get('source'), 'Mairie de Saumur')
  assert.equal(cov.get('createdBy'), String(bruno.id))
  assert.deepEqual(find(doc, 'Fermes')[1].get('slot'), { sector: 's3', ring: 'r1' })
  for (const p of [f, b]) {
    await p.page.locator('.world .note', { hasText: 'Covoiturage' }).waitFor()
    await waitFor(async () => (await p.page.locator('.world .note.private').count()) === 0, { what: `${p.name}: nothing private left` })
  }

  // ---- dots: those on a signal the facilitator hides no longer count against Bruno's budget ----
  doc.transact(() => {
    meta.set('phase', 'voter')
    meta.set('votesPerParticipant', 2)
    meta.set('votingOpen', true)
  })
  const bNote = (text) => b.page.locator('.world .note', { hasText: text })
  await bNote('Covoiturage').locator('.vote-add').waitFor()
  await bNote('Covoiturage').locator('.vote-add').click()
  await bNote('Fermes').locator('.vote-add').click()
  const votesOf = (text) => find(doc, text)?.[1].get('votes')?.get(String(bruno.id)) ?? 0
  await waitFor(() => votesOf('Covoiturage') === 1 && votesOf('Fermes') === 1, { what: 'Bruno\'s two dots' })
  const left = b.page.locator('.vote-remaining')
  await waitFor(async () => /^0 points? restants? sur 2$/.test(await left.textContent()), { what: 'no dot left' })
  doc.transact(() => find(doc, 'Fermes')[1].set('hidden', true))
  await waitFor(async () => (await bNote('Fermes').count()) === 0, { what: 'the hidden signal to go for Bruno' })
  await waitFor(async () => (await left.textContent()) === '1 point restant sur 2', { what: 'the dot on the hidden signal to come back' })
  await bNote('Covoiturage').locator('.vote-add:not([aria-disabled="true"])').click()
  await waitFor(() => votesOf('Covoiturage') === 2, { what: 'the second dot on Covoiturage' })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  assert.equal(votesOf('Covoiturage'), 2, 'the server keeps it (the hidden signal\'s dot does not count)')
  assert.equal(votesOf('Fermes'), 1, 'the dot stays on the hidden signal')
  await waitFor(async () => /^0 points? restants? sur 2$/.test(await left.textContent()), { what: 'the budget spent again' })
  await shot(b.page, 'radar-hidden-dots')
  // Shown again, its dot counts again: Bruno is over his budget and may only take dots back.
  doc.transact(() => find(doc, 'Fermes')[1].delete('hidden'))
  await bNote('Fermes').waitFor()
  await bNote('Covoiturage').locator('.vote-add[aria-disabled="true"]').waitFor()
  await bNote('Covoiturage').locator('.vote-remove').click()
  await waitFor(() => votesOf('Covoiturage') === 1, { what: 'a dot taken back' })
  watcher.destroy()
  assert.deepEqual([f, b].flatMap((p) => p.errors), [])
})
