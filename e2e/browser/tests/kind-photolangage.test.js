// Photo-langage (kinds/photolangage.ts): the facilitator uploads a deck of three small PNGs
// (encoded here with node:zlib); a participant on a desktop and one on a 768×1024 touch tablet
// pick images and say why; each pick lands under its image on the canvas, and "Les choix" groups
// the picks under each image for everyone.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { writeBoard } from '../lib/boards.js'
import { launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'
import { png } from '../lib/png.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

/** The picks (notes with `pick`) of a stock client's doc: [{ id, pick, text, createdBy }]. */
function picks (doc) {
  return [...doc.getMap('notes').entries()]
    .filter(([, n]) => typeof n.get('pick') === 'string')
    .map(([id, n]) => ({ id, pick: n.get('pick'), text: String(n.get('text')), createdBy: n.get('createdBy') }))
}

/** Picks image `name` in the open deck panel and says why. */
async function pick (p, name, why, { touch = false } = {}) {
  const page = p.page
  const act = (locator) => touch ? locator.tap() : locator.click()
  const toggle = page.locator('button[data-panel="photo-deck"]')
  if (await toggle.getAttribute('aria-expanded') !== 'true') await act(toggle)
  await act(page.locator('#photo-deck').getByRole('button', { name: new RegExp(`^Choisir (encore )?« ${name} »`) }))
  const form = page.locator('.photo-why')
  await form.getByRole('heading', { name: `Vous avez choisi « ${name} »` }).waitFor()
  await form.getByLabel('Pourquoi cette image ?').fill(why)
  await act(form.getByRole('button', { name: 'Ajouter mon choix' }))
  await page.locator('.photo-grid').waitFor()
}

e2eTest('photo-langage: a deck uploaded by the facilitator, picks with a why, grouped under each image', { timeout: 180_000 }, async (h) => {
  const server = await h.startServer()
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const [bruno, tess] = await h.participants(server, ['bruno', 'tess'])
  const org = await h.tenancy(server)
  const board = await org.createBoard(server, 'Photo-langage : ma ville en 2040', { kind: 'photolangage' })
  await writeBoard(server, board, fanny.token, (doc) => {
    doc.getMap('meta').set('schema', 1)
    doc.getMap('meta').set('kind', 'photolangage')
  })
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const b = await participantPage(launched, server, { name: 'bruno', token: bruno.token })
  const t = await participantPage(launched, server, { name: 'tess', token: tess.token, contextOptions: TABLET })
  await openBoard(f, server, board)
  await Promise.all([openBoard(b, server, board), openBoard(t, server, board)])
  const everyone = [f, b, t]
  const watcher = h.client(server, board, { token: fanny.token })
  await watcher.synced()
  const doc = watcher.doc

  // The badge names the kind; participants cannot upload.
  await b.page.locator('.board-title .badge', { hasText: 'Photo-langage' }).waitFor()
  // (The deck is empty: it does not open by itself.)
  assert.equal(await b.page.locator('button[data-panel="photo-deck"]').getAttribute('aria-expanded'), 'false')
  await b.page.locator('button[data-panel="photo-deck"]').click()
  await b.page.locator('#photo-deck').getByText('L’animation n’a pas encore ajouté d’images.').waitFor()
  assert.equal(await b.page.locator('#photo-deck .photo-file').count(), 0)

  // ---- the facilitator uploads three images -------------------------------------------------
  await f.page.locator('button[data-panel="photo-deck"]').click()
  await f.page.locator('#photo-deck .photo-file').setInputFiles([
    { name: 'forêt.png', mimeType: 'image/png', buffer: png(160, 120, [22, 101, 52]) },
    { name: 'port.png', mimeType: 'image/png', buffer: png(160, 120, [29, 78, 216]) },
    { name: 'marché.png', mimeType: 'image/png', buffer: png(120, 160, [194, 65, 12]) }
  ])
  await f.page.locator('#photo-deck').getByText('3 images ajoutées au jeu.').waitFor()
  await waitFor(() => (doc.getMap('meta').get('deck') ?? []).length === 3, { what: 'the deck to reach the server' })
  const deck = doc.getMap('meta').get('deck')
  assert.deepEqual(deck.map((c) => c.name), ['forêt', 'port', 'marché'])
  const asset = Object.fromEntries(deck.map((c) => [c.name, c.asset]))
  // The deck is on everyone's canvas, images loaded.
  for (const p of everyone) {
    await waitFor(async () => (await p.page.locator('.photo-deck-layer .photo-card img').evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length)) === 3, { what: `${p.name}: the deck's images` })
  }
  await b.page.locator('#photo-deck .photo-choice', { hasText: 'marché' }).waitFor()
  await shot(f.page, 'photo-facilitator-deck')
  const inDeck = await audit(f.page)
  assert.deepEqual(inDeck, [], `axe (facilitator, deck):\n${JSON.stringify(inDeck, null, 1)}`)

  // Tess arrives late on her tablet: the deck is open for her at once.
  await t.page.reload()
  await t.page.locator('.status-connection[data-state="connected"]').waitFor()
  await t.page.locator('#photo-deck .photo-choice', { hasText: 'marché' }).waitFor()
  assert.equal(await t.page.locator('button[data-panel="photo-deck"]').getAttribute('aria-expanded'), 'true')

  // ---- Bruno picks two images, Tess (tablet) one ------------------------------------------------
  await pick(b, 'forêt', 'Des arbres en ville, de l’ombre l’été')
  await pick(b, 'port', 'Le fret repasse par l’eau')
  await pick(t, 'forêt', 'Un parc à dix minutes de chez moi', { touch: true })
  await waitFor(() => picks(doc).length === 3, { what: 'three picks' })
  const all = picks(doc)
  assert.deepEqual(all.filter((p) => p.pick === asset['forêt']).map((p) => p.text).sort(), ['Des arbres en ville, de l’ombre l’été', 'Un parc à dix minutes de chez moi'])
  assert.deepEqual(all.filter((p) => p.pick === asset.port).map((p) => p.createdBy), [String(bruno.id)])
  // Bruno's deck marks what he picked already.
  assert.match(await b.page.locator('#photo-deck .photo-choice', { hasText: 'forêt' }).getAttribute('aria-label'), /déjà choisie/)
  await shot(t.page, 'photo-tablet-deck')

  // Each pick lies under its image on the canvas.
  const cardX = async (page, i) => Number((await page.locator('.photo-card').nth(i).evaluate((el) => el.style.transform)).match(/translate\(([-\d.]+)px/)[1])
  for (const text of ['Des arbres', 'Un parc']) {
    const note = f.page.locator('.world .note', { hasText: text })
    await note.waitFor()
    assert.equal((await notePosition(note)).x, await cardX(f.page, 0), `${text}: under the forêt card`)
  }
  assert.equal((await notePosition(f.page.locator('.world .note', { hasText: 'fret' }))).x, await cardX(f.page, 1))
  const [a1, a2] = await Promise.all(['Des arbres', 'Un parc'].map((text) => notePosition(f.page.locator('.world .note', { hasText: text }))))
  assert.ok(Math.abs(a1.y - a2.y) >= 140, 'two picks of one image do not overlap')

  // ---- "Les choix": the picks grouped under each image, for everyone ---------------------------
  await t.page.locator('button[data-panel="photo-picks"]').tap()
  const groups = t.page.locator('#photo-picks .photo-group')
  await groups.first().waitFor()
  assert.equal(await groups.count(), 3)
  const forest = groups.filter({ has: t.page.getByRole('heading', { name: /forêt/ }) })
  await forest.locator('.photo-pick', { hasText: 'Un parc' }).waitFor()
  assert.deepEqual(await forest.locator('.photo-pick').allTextContents(), ['Des arbres en ville, de l’ombre l’été', 'Un parc à dix minutes de chez moi'])
  assert.match(await forest.getByRole('heading').textContent(), /2 choix/)
  assert.deepEqual(await groups.filter({ has: t.page.getByRole('heading', { name: /port/ }) }).locator('.photo-pick').allTextContents(), ['Le fret repasse par l’eau'])
  await groups.filter({ has: t.page.getByRole('heading', { name: /marché/ }) }).getByText('Personne n’a encore choisi cette image.').waitFor()
  assert.equal(await t.page.locator('#photo-picks').getByRole('list', { name: /forêt/ }).count(), 1, 'each group is a list named by its image')
  // Live: a new pick shows up in the open view.
  await pick(b, 'marché', 'Des producteurs du coin')
  await groups.filter({ has: t.page.getByRole('heading', { name: /marché/ }) }).locator('.photo-pick', { hasText: 'producteurs' }).waitFor()
  // A pick in the list brings its note into view and selects it.
  await forest.locator('.photo-pick', { hasText: 'Un parc' }).tap()
  await waitFor(async () => (await t.page.locator('.world .note.selected', { hasText: 'Un parc' }).count()) === 1, { what: 'the pick selected on the canvas' })
  await shot(t.page, 'photo-tablet-picks')
  const inPicks = await audit(t.page)
  assert.deepEqual(inPicks, [], `axe (tablet, picks):\n${JSON.stringify(inPicks, null, 1)}`)
  await f.page.locator('button[data-panel="photo-picks"]').click()
  await f.page.locator('#photo-picks .photo-pick', { hasText: 'producteurs' }).waitFor()
  await shot(f.page, 'photo-facilitator-picks')

  // ---- the deck changes while Bruno writes his why: his text and the focus stay ----------------
  const bForm = b.page.locator('#photo-deck .photo-why')
  const bWhy = bForm.getByLabel('Pourquoi cette image ?')
  const whyFocused = () => bWhy.evaluate((el) => el === document.activeElement)
  await b.page.locator('#photo-deck').getByRole('button', { name: /^Choisir (encore )?« port »/ }).click()
  await waitFor(whyFocused, { what: 'the why to have the focus' })
  await b.page.keyboard.type('Les quais rendus')
  const setDeck = (fn) => doc.transact(() => doc.getMap('meta').set('deck', fn(doc.getMap('meta').get('deck'))))
  // The facilitator renames the chosen image and another one…
  setDeck((d) => d.map((c) => c.name === 'port' ? { ...c, name: 'le port' } : c.name === 'forêt' ? { ...c, name: 'la forêt' } : c))
  await bForm.getByRole('heading', { name: 'Vous avez choisi « le port »' }).waitFor()
  await b.page.locator('.photo-deck-layer .photo-card-name', { hasText: 'la forêt' }).waitFor()
  assert.equal(await bWhy.inputValue(), 'Les quais rendus')
  assert.equal(await whyFocused(), true, 'the why keeps the focus across a rename')
  // … and uploads one more.
  await f.page.locator('button[data-panel="photo-deck"]').click()
  await f.page.locator('#photo-deck .photo-file').setInputFiles([{ name: 'rivière.png', mimeType: 'image/png', buffer: png(160, 120, [14, 116, 144]) }])
  await waitFor(() => (doc.getMap('meta').get('deck') ?? []).length === 4, { what: 'the fourth image' })
  await waitFor(async () => (await b.page.locator('.photo-deck-layer .photo-card').count()) === 4, { what: 'Bruno: the fourth card' })
  await b.page.keyboard.type(' aux piétons')
  assert.equal(await bWhy.inputValue(), 'Les quais rendus aux piétons')
  assert.equal(await whyFocused(), true, 'the why keeps the focus across an upload')
  // The chosen image itself is removed: Bruno is told, his text waits for the next image chosen.
  setDeck((d) => d.filter((c) => c.name !== 'le port'))
  const removed = b.page.locator('#photo-deck .photo-removed[role="alert"]', { hasText: 'L’image « le port » vient d’être retirée du jeu. Votre texte est gardé' })
  await removed.waitFor()
  await waitFor(() => removed.evaluate((el) => el === document.activeElement), { what: 'the focus on the notice' })
  await shot(b.page, 'photo-chosen-removed')
  await b.page.locator('#photo-deck').getByRole('button', { name: /^Choisir (encore )?« rivière »/ }).click()
  await bForm.getByRole('heading', { name: 'Vous avez choisi « rivière »' }).waitFor()
  await waitFor(whyFocused, { what: 'the why to have the focus again' })
  assert.equal(await bWhy.inputValue(), 'Les quais rendus aux piétons')
  await b.page.keyboard.type(', et la rivière')
  await bForm.getByRole('button', { name: 'Ajouter mon choix' }).click()
  await waitFor(() => picks(doc).some((p) => p.text === 'Les quais rendus aux piétons, et la rivière'), { what: 'the pick with the whole why' })
  const river = doc.getMap('meta').get('deck').find((c) => c.name === 'rivière').asset
  assert.equal(picks(doc).find((p) => p.text.startsWith('Les quais')).pick, river)
  // Once added, the next choice starts empty.
  await b.page.locator('#photo-deck').getByRole('button', { name: /^Choisir (encore )?« marché »/ }).click()
  assert.equal(await bWhy.inputValue(), '')
  watcher.destroy()
  assert.deepEqual(everyone.flatMap((p) => p.errors), [])
})
