// Organising a board, by two participants in their own browser contexts: clusters (group the
// selection, a shared title, membership that follows drags, moving a cluster moves its notes),
// dot voting (budget, totals, dots left, hidden totals, viewers do not vote, undo of one's
// grouping keeps the others' votes), and the operations on any selection: box and lasso
// selection, delete, copy and paste (within a board, into another board, plain text from
// elsewhere), stacking order.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { canvasPoint, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const WIDE = { viewport: { width: 1440, height: 960 } }

/** Double-clicks the background at `dx, dy` from the canvas centre and types `text`. */
async function addNote (page, dx, dy, text) {
  const count = await page.locator('.note').count()
  const p = await canvasPoint(page, dx, dy)
  await page.mouse.dblclick(p.x, p.y)
  await page.locator('.note textarea').waitFor()
  await page.keyboard.type(text)
  await page.keyboard.press('Escape')
  await waitFor(async () => (await page.locator('.note').count()) === count + 1, { what: `${text} to be added` })
  return page.locator('.note', { hasText: text })
}

/** Drags with the mouse from the centre of `locator` by (dx, dy) pixels. */
async function dragBy (page, locator, dx, dy, { at } = {}) {
  const box = await locator.boundingBox()
  const x = at ? box.x + at.x : box.x + box.width / 2
  const y = at ? box.y + at.y : box.y + box.height / 2
  await page.mouse.move(x, y)
  await page.mouse.down()
  await page.mouse.move(x + dx, y + dy, { steps: 12 })
  await page.mouse.up()
}

/** Draws a selection box between two canvas points (offsets from its centre). */
async function boxSelect (page, from, to) {
  const a = await canvasPoint(page, from[0], from[1])
  const b = await canvasPoint(page, to[0], to[1])
  await page.mouse.move(a.x, a.y)
  await page.mouse.down()
  await page.mouse.move(b.x, b.y, { steps: 10 })
  await page.mouse.up()
}

const label = (locator) => locator.getAttribute('aria-label')
const ids = (page, selector) => page.locator(selector).evaluateAll((els) => els.map((el) => el.dataset.noteId))

e2eTest('clusters: group the selection under a shared title, move it with its notes, drag notes in and out', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'regrouper', ['alice', 'bob'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice'), contextOptions: WIDE })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob'), contextOptions: WIDE })
  await openBoard(alice, server, board)
  await openBoard(bob, server, board)
  const a = alice.page
  const b = bob.page

  const bus = await addNote(a, -320, -120, 'Navette du dimanche')
  const bike = await addNote(a, -80, -120, 'Pistes cyclables')
  const walk = await addNote(a, 260, 180, 'Trottoirs plus larges')
  await b.locator('.note', { hasText: 'Trottoirs plus larges' }).waitFor()

  // A box around the first two notes selects them (not the third), and "Grouper la sélection"
  // draws a cluster around them; its title is typed at once.
  await boxSelect(a, [-440, -240], [60, -20])
  await waitFor(async () => (await a.locator('.note.selected').count()) === 2, { what: 'the box to select two notes' })
  assert.equal(await walk.evaluate((el) => el.classList.contains('selected')), false)
  await a.getByRole('button', { name: 'Grouper la sélection' }).click()
  await a.getByRole('textbox', { name: 'Titre du groupe' }).waitFor()
  await a.keyboard.type('Mobilité')
  await a.keyboard.press('Enter')

  // Bob sees the title, the two members, and each member says which cluster it is in.
  const clusterB = b.locator('.cluster')
  await clusterB.locator('.cluster-title', { hasText: 'Mobilité' }).waitFor()
  await waitFor(async () => (await clusterB.locator('.cluster-count').textContent()) === '2 notes', { what: 'Bob to see 2 notes in the cluster' })
  assert.match(await label(b.locator('.note', { hasText: 'Navette du dimanche' })), /groupe « Mobilité »/)
  assert.match(await label(b.locator('.note', { hasText: 'Pistes cyclables' })), /groupe « Mobilité »/)
  assert.doesNotMatch(await label(b.locator('.note', { hasText: 'Trottoirs' })), /groupe/)
  assert.match(await label(clusterB), /^Groupe « Mobilité » : 2 notes/)
  await shot(b, 'organise-cluster-bob')

  // Bob drags the cluster by its title bar: its notes move with it, for Alice too; the third
  // note stays.
  const clusterA = a.locator('.cluster')
  const translate = (locator) => locator.evaluate((el) => {
    const m = el.style.transform.match(/translate\(([-\d.]+)px, ([-\d.]+)px\)/)
    return { x: Number(m[1]), y: Number(m[2]) }
  })
  const before = { cluster: await translate(clusterA), bus: await notePosition(bus), bike: await notePosition(bike), walk: await notePosition(walk) }
  const bobZoom = Number((await b.locator('.zoom-level').textContent()).replace(/\D/g, '')) / 100
  await dragBy(b, clusterB.locator('.cluster-header'), 150, 90, { at: { x: 40, y: 20 } })
  const moved = { x: 150 / bobZoom, y: 90 / bobZoom }
  await waitFor(async () => {
    const c = await translate(clusterA)
    return Math.abs(c.x - before.cluster.x - moved.x) < 1 && Math.abs(c.y - before.cluster.y - moved.y) < 1
  }, { what: 'Alice to see the cluster moved' })
  for (const [note, start] of [[bus, before.bus], [bike, before.bike]]) {
    const now = await notePosition(note)
    assert.ok(Math.abs(now.x - start.x - moved.x) < 1 && Math.abs(now.y - start.y - moved.y) < 1, 'a member moved with its cluster')
  }
  assert.deepEqual(await notePosition(walk), before.walk, 'a note outside the cluster did not move')
  await shot(a, 'organise-cluster-moved-alice')

  // Alice drags a note out of the cluster: it leaves it; she drags the third one in: it joins.
  await dragBy(a, bike, 0, 330)
  await waitFor(async () => (await clusterB.locator('.cluster-count').textContent()) === '1 note', { what: 'the cluster to have 1 note left' })
  await waitFor(async () => !/groupe/.test(await label(b.locator('.note', { hasText: 'Pistes cyclables' }))), { what: 'the dragged note to leave its cluster' })
  const into = await clusterA.boundingBox()
  const walkBox = await walk.boundingBox()
  await dragBy(a, walk, into.x + into.width - 120 - (walkBox.x + walkBox.width / 2), into.y + into.height - 90 - (walkBox.y + walkBox.height / 2))
  await waitFor(async () => /groupe « Mobilité »/.test(await label(b.locator('.note', { hasText: 'Trottoirs' }))), { what: 'the dropped note to join the cluster' })
  await waitFor(async () => (await clusterB.locator('.cluster-count').textContent()) === '2 notes', { what: 'the cluster to count the note dropped in' })

  // The outline nests the notes under their cluster.
  const outline = b.getByRole('complementary', { name: 'Plan du tableau' })
  await outline.getByRole('button', { name: /^Groupe « Mobilité » \(2 notes\)/ }).waitFor()
  const members = outline.getByRole('list', { name: 'Notes du groupe « Mobilité »' })
  await members.getByRole('button', { name: /Navette du dimanche/ }).waitFor()
  await members.getByRole('button', { name: /Trottoirs plus larges/ }).waitFor()
  await outline.getByText('Hors groupe').waitFor()

  // Deleting the cluster keeps its notes.
  await clusterA.locator('.cluster-header').click({ position: { x: 40, y: 20 } })
  await a.keyboard.press('Delete')
  await waitFor(async () => (await b.locator('.cluster').count()) === 0, { what: 'the cluster to be dissolved' })
  assert.equal(await b.locator('.note').count(), 3, 'its notes stay')
  await waitFor(async () => !/groupe/.test(await label(b.locator('.note', { hasText: 'Navette' }))), { what: 'the notes to be in no cluster' })
  await a.locator('.status-saved[data-state="saved"]').waitFor()
  assert.deepEqual([...alice.errors, ...bob.errors], [])
})

e2eTest('dot voting: budget, totals and dots left for each, hidden totals, viewers, undo keeps others\' votes', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  await h.participants(server, ['alice'], { role: 'facilitator' })
  await h.participants(server, ['victor'], { role: 'viewer' })
  const board = await h.board(server, 'voter', ['bob'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice'), contextOptions: WIDE })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob'), contextOptions: WIDE })
  const victor = await participantPage(launched, server, { name: 'victor', token: org.tokenOf('victor'), contextOptions: WIDE })
  await openBoard(alice, server, board)
  await openBoard(bob, server, board)
  await openBoard(victor, server, board)
  const a = alice.page
  const b = bob.page

  await addNote(a, -320, -120, 'Bus de nuit')
  await addNote(a, -80, -120, 'Vélos en libre service')
  await addNote(a, 260, 180, 'Marche à pied')
  for (const p of [b, victor.page]) await p.locator('.note', { hasText: 'Marche à pied' }).waitFor()

  // No vote yet: no dot buttons, and only facilitators have the voting controls.
  assert.equal(await b.getByRole('button', { name: 'Ajouter un point' }).count(), 0)
  assert.equal(await b.getByRole('button', { name: 'Vote par points' }).count(), 0)

  // Alice (facilitator) sets 3 dots each and opens the vote.
  await a.getByRole('button', { name: 'Vote par points' }).click()
  const panel = a.getByRole('dialog', { name: 'Vote par points' })
  const budget = panel.getByLabel('Points par participant·e')
  assert.equal(await budget.inputValue(), '5', 'the default budget')
  await panel.getByRole('button', { name: 'Un point de moins par participant·e' }).click()
  await panel.getByRole('button', { name: 'Un point de moins par participant·e' }).click()
  await waitFor(async () => (await budget.inputValue()) === '3', { what: 'the budget to be 3' })
  await panel.getByRole('button', { name: 'Ouvrir le vote' }).click()
  await shot(a, 'organise-vote-panel')
  await a.keyboard.press('Escape')
  await waitFor(async () => !(await panel.isVisible()), { what: 'the panel to close' })

  const remaining = (p) => p.locator('.vote-remaining').textContent()
  await waitFor(async () => (await remaining(b)) === '3 points restants sur 3', { what: 'Bob to have 3 dots' })
  const note = (p, text) => p.locator('.note', { hasText: text })
  const total = async (p, text) => {
    const el = note(p, text).locator('.note-total')
    return (await el.count()) === 0 ? 0 : Number((await el.textContent()).replace(/\D/g, ''))
  }

  // Alice places one dot, then groups the first two notes (her last changes).
  await note(a, 'Bus de nuit').getByRole('button', { name: 'Ajouter un point' }).click()
  await waitFor(async () => (await remaining(a)) === '2 points restants sur 3', { what: 'Alice to have 2 dots left' })
  await boxSelect(a, [-440, -240], [60, -20])
  await waitFor(async () => (await a.locator('.note.selected').count()) === 2, { what: 'two notes selected' })
  await a.keyboard.press('Control+g')
  await a.getByRole('textbox', { name: 'Titre du groupe' }).waitFor()
  await a.keyboard.type('Transports')
  await a.keyboard.press('Enter')
  await b.locator('.cluster-title', { hasText: 'Transports' }).waitFor()

  // Bob spends his three dots; a fourth is refused.
  const bobBus = note(b, 'Bus de nuit')
  await bobBus.getByRole('button', { name: 'Ajouter un point' }).click()
  await bobBus.getByRole('button', { name: 'Ajouter un point' }).click()
  await note(b, 'Vélos').getByRole('button', { name: 'Ajouter un point' }).click()
  await waitFor(async () => (await remaining(b)) === '0 point restant sur 3', { what: 'Bob to have no dots left' })
  // (aria-disabled, still focusable and pressable: pressing it says why nothing happens.)
  await note(b, 'Marche').getByRole('button', { name: 'Ajouter un point' }).click({ force: true })
  assert.equal(await note(b, 'Marche').getByRole('button', { name: 'Ajouter un point' }).getAttribute('aria-disabled'), 'true')

  // Totals for both; dots left for each their own; the cluster adds its notes' dots.
  for (const p of [a, b]) {
    await waitFor(async () => (await total(p, 'Bus de nuit')) === 3 && (await total(p, 'Vélos')) === 1, { what: 'totals 3 and 1' })
    assert.equal(await total(p, 'Marche'), 0, 'the refused dot was not placed')
    await waitFor(async () => (await p.locator('.cluster-votes').textContent()) === '4', { what: 'the cluster total of 4' })
  }
  assert.equal(await remaining(a), '2 points restants sur 3')
  assert.equal(await remaining(b), '0 point restant sur 3')
  assert.match(await label(bobBus), /3 points, dont 2 à vous/)
  await shot(b, 'organise-vote-bob')

  // A viewer sees the totals but has no dots and no buttons.
  const v = victor.page
  await waitFor(async () => (await total(v, 'Bus de nuit')) === 3, { what: 'the viewer to see the totals' })
  assert.equal(await v.getByRole('button', { name: 'Ajouter un point' }).count(), 0)
  assert.equal(await v.locator('.vote-remaining').isVisible(), false)
  await v.locator('.canvas').focus()
  await v.locator('.note', { hasText: 'Marche' }).focus()
  await v.keyboard.press('d')
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(await total(a, 'Marche'), 0, 'the viewer could not vote')

  // Hidden totals while voting: each sees only their own dots; closing the vote shows results.
  await a.getByRole('button', { name: 'Vote par points' }).click()
  await panel.getByLabel('Masquer les totaux pendant le vote').check()
  await waitFor(async () => (await b.locator('.note-total').count()) === 0, { what: 'totals to be hidden for Bob' })
  assert.equal(await b.locator('.cluster-votes').count(), 0)
  assert.equal(await bobBus.locator('.my-dots .dot').count(), 2, 'Bob still sees his own dots')
  await shot(b, 'organise-vote-hidden-bob')
  await panel.getByRole('button', { name: 'Clore le vote' }).click()
  await waitFor(async () => (await total(b, 'Bus de nuit')) === 3, { what: 'results once the vote is closed' })
  assert.equal(await b.getByRole('button', { name: 'Ajouter un point' }).count(), 0, 'no more voting once closed')
  await a.keyboard.press('Escape')

  // Alice undoes her grouping (title, then cluster): Bob's votes stay.
  await a.locator('.canvas').focus()
  for (let i = 0; i < 3 && (await a.locator('.cluster').count()) > 0; i++) await a.keyboard.press('Control+z')
  await waitFor(async () => (await b.locator('.cluster').count()) === 0, { what: 'Alice\'s cluster to be undone for Bob' })
  assert.equal(await b.locator('.note').count(), 3)
  assert.equal(await total(b, 'Bus de nuit'), 3, 'Bob\'s dots on a note stay')
  assert.equal(await total(b, 'Vélos'), 1)
  assert.equal(await total(a, 'Bus de nuit'), 3)
  await a.locator('.status-saved[data-state="saved"]').waitFor()
  assert.deepEqual([...alice.errors, ...bob.errors, ...victor.errors], [])
})

e2eTest('any selection: box select and delete, lasso, copy and paste (across boards, from text), stacking order', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'ranger', ['alice', 'bob'])
  const other = await h.board(server, 'autre tableau')
  const org = await h.tenancy(server)
  const clipboardAccess = { ...WIDE, permissions: ['clipboard-read', 'clipboard-write'] }
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice'), contextOptions: clipboardAccess })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob'), contextOptions: WIDE })
  await openBoard(alice, server, board)
  await openBoard(bob, server, board)
  const a = alice.page
  const b = bob.page

  await addNote(a, -320, -150, 'Un')
  await addNote(a, -80, -150, 'Deux')
  const pair = [
    await (await addNote(a, 200, 120, 'Trois')).getAttribute('data-note-id'),
    await (await addNote(a, 330, 210, 'Quatre')).getAttribute('data-note-id')
  ]
  await b.locator('.note', { hasText: 'Quatre' }).waitFor()

  // Box selection and Delete: both notes go, for Bob too.
  await boxSelect(a, [-440, -260], [40, -40])
  await waitFor(async () => (await a.locator('.note.selected').count()) === 2, { what: 'two notes in the box' })
  await a.keyboard.press('Delete')
  await waitFor(async () => (await b.locator('.note').count()) === 2, { what: 'Bob to see two notes deleted' })
  assert.equal(await b.locator('.note', { hasText: 'Un' }).count(), 0)

  // A lasso (Alt + drag) around "Trois" only: its centre is inside, "Quatre"'s is not.
  const three = a.locator(`.note[data-note-id="${pair[0]}"]`)
  const box = await three.boundingBox()
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2
  await a.keyboard.down('Alt')
  await a.mouse.move(cx - 130, cy - 110)
  await a.mouse.down()
  for (const [x, y] of [[cx + 60, cy - 120], [cx + 40, cy + 10], [cx - 40, cy + 110], [cx - 140, cy + 60], [cx - 130, cy - 100]]) {
    await a.mouse.move(x, y, { steps: 5 })
  }
  await shot(a, 'organise-lasso')
  await a.mouse.up()
  await a.keyboard.up('Alt')
  await waitFor(async () => (await a.locator('.note.selected').count()) === 1, { what: 'the lasso to select one note' })
  assert.equal(await three.evaluate((el) => el.classList.contains('selected')), true)

  // Copy, then paste at the pointer: a second "Trois" appears there, for Bob too.
  await a.keyboard.press('Control+c')
  const target = await canvasPoint(a, -250, -150)
  await a.mouse.move(target.x, target.y)
  await a.keyboard.press('Control+v')
  await waitFor(async () => (await b.locator('.note', { hasText: 'Trois' }).count()) === 2, { what: 'Bob to see the pasted note' })
  const pasted = a.locator('.note.selected', { hasText: 'Trois' })
  const pastedBox = await pasted.boundingBox()
  assert.ok(Math.abs(pastedBox.x + pastedBox.width / 2 - target.x) < 2 && Math.abs(pastedBox.y + pastedBox.height / 2 - target.y) < 2, 'pasted at the pointer')

  // Plain text from elsewhere: one note per line.
  await a.locator('.canvas').focus()
  await a.evaluate(() => {
    const data = new DataTransfer()
    data.setData('text/plain', '- Parking vélo\n- Bancs\n- Fontaine')
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
  })
  for (const text of ['Parking vélo', 'Bancs', 'Fontaine']) await b.locator('.note', { hasText: text }).waitFor()
  assert.equal(await b.locator('.note').count(), 6)
  await shot(b, 'organise-pasted-bob')

  // Stacking: "Trois" and "Quatre" overlap; send to back and bring to front are seen by Bob.
  const names = { [pair[0]]: 'Trois', [pair[1]]: 'Quatre' }
  const order = async (p) => (await ids(p, '.notes-layer .note')).filter((id) => id in names).map((id) => names[id])
  await a.locator('.note', { hasText: 'Quatre' }).click({ position: { x: 150, y: 120 } })
  await waitFor(async () => JSON.stringify(await order(b)) === JSON.stringify(['Trois', 'Quatre']), { what: 'the first order' })
  await a.getByRole('button', { name: 'Mettre à l’arrière-plan' }).click()
  await waitFor(async () => JSON.stringify(await order(b)) === JSON.stringify(['Quatre', 'Trois']), { what: 'Bob to see "Quatre" sent to back' })
  const zIndex = (p, id) => p.locator(`.note[data-note-id="${id}"]`).evaluate((el) => Number(getComputedStyle(el).zIndex) || 0)
  await waitFor(async () => await zIndex(b, pair[1]) < await zIndex(b, pair[0]), { what: 'Bob to draw "Quatre" below "Trois"' })
  await a.getByRole('button', { name: 'Mettre au premier plan' }).click()
  await waitFor(async () => JSON.stringify(await order(b)) === JSON.stringify(['Trois', 'Quatre']), { what: 'Bob to see "Quatre" brought to front' })
  // Ctrl+[ steps it back below "Trois" (the item it overlaps).
  await a.locator('.canvas').focus()
  await a.keyboard.press('Control+BracketLeft')
  await waitFor(async () => JSON.stringify(await order(b)) === JSON.stringify(['Quatre', 'Trois']), { what: 'Ctrl+[ to send it backward' })
  await shot(b, 'organise-stacking-bob')

  // The "more actions" menu: copy, then paste from the clipboard (the async Clipboard API reads
  // back the HTML format), by keyboard: Enter opens it on its first item, arrows move.
  await a.locator('.note', { hasText: 'Quatre' }).click({ position: { x: 150, y: 120 } })
  const more = a.getByRole('button', { name: 'Plus d’actions' })
  await more.click()
  const menu = a.getByRole('menu', { name: 'Plus d’actions' })
  await menu.getByRole('menuitem', { name: 'Copier' }).click()
  await waitFor(async () => !(await menu.isVisible()), { what: 'the menu to close' })
  await more.focus()
  await a.keyboard.press('Enter')
  await waitFor(async () => (await a.evaluate(() => document.activeElement?.textContent)).startsWith('Copier'), { what: 'the first item to be focused' })
  await a.keyboard.press('ArrowDown')
  await a.keyboard.press('ArrowDown')
  assert.match(await a.evaluate(() => document.activeElement?.textContent), /^Coller/)
  await shot(a, 'organise-menu')
  await a.keyboard.press('Enter')
  await waitFor(async () => (await b.locator('.note', { hasText: 'Quatre' }).count()) === 2, { what: 'the menu\'s paste to reach Bob' })

  // Copy "Trois" and paste it into another board: the note arrives with its text.
  await three.click({ position: { x: 20, y: 20 } })
  await a.keyboard.press('Control+c')
  await a.locator('.status-saved[data-state="saved"]').waitFor()
  await openBoard(alice, server, other)
  await a.locator('.canvas').focus()
  await a.keyboard.press('Control+v')
  await a.locator('.note', { hasText: 'Trois' }).waitFor()
  assert.equal(await a.locator('.note').count(), 1)
  await a.locator('.status-saved[data-state="saved"]').waitFor()
  assert.deepEqual([...alice.errors, ...bob.errors], [])
})

e2eTest('on a touch tablet: lasso with one finger, group, drag a cluster, vote and the actions menu by taps', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  await h.participants(server, ['tess'], { role: 'facilitator' })
  const board = await h.board(server, 'tablette')
  const org = await h.tenancy(server)
  const tess = await participantPage(launched, server, {
    name: 'tess',
    token: org.tokenOf('tess'),
    contextOptions: { viewport: { width: 1024, height: 768 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }
  })
  const { page } = tess
  await openBoard(tess, server, board)
  const cdp = await tess.context.newCDPSession(page)
  /** One finger along `points` (page coordinates). */
  const swipe = async (points) => {
    const at = ([x, y]) => [{ x, y, id: 0 }]
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(points[0]) })
    for (const p of points.slice(1)) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(p) })
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
    // Chromium's gesture detector takes a tap right after synthetic touch input as part of that
    // gesture (no click); a person's next tap comes later than that (as in access.test.js).
    await new Promise((resolve) => setTimeout(resolve, 800))
  }
  const steps = (from, to, n = 8) => Array.from({ length: n + 1 }, (_, i) => [from[0] + (to[0] - from[0]) * i / n, from[1] + (to[1] - from[1]) * i / n])

  for (const [dx, text] of [[-130, 'Arbres'], [130, 'Ombre']]) {
    const p = await canvasPoint(page, dx, 0)
    await page.touchscreen.tap(p.x, p.y)
    await page.touchscreen.tap(p.x, p.y)
    await page.locator('.note textarea').waitFor()
    await page.keyboard.type(text)
    const q = await canvasPoint(page, 0, 250)
    await page.touchscreen.tap(q.x, q.y)
    await waitFor(async () => (await page.locator('.note textarea').count()) === 0, { what: 'the editor to close' })
  }

  // The lasso toggle: one finger now draws a lasso (instead of panning) around both notes.
  const lasso = page.getByRole('button', { name: 'Sélection au lasso (ou Alt + glisser)' })
  await lasso.tap()
  assert.equal(await lasso.getAttribute('aria-pressed'), 'true')
  const c = await canvasPoint(page, 0, 0)
  await swipe([...steps([c.x - 280, c.y - 140], [c.x + 280, c.y - 140]), ...steps([c.x + 280, c.y - 140], [c.x + 280, c.y + 140]).slice(1),
    ...steps([c.x + 280, c.y + 140], [c.x - 280, c.y + 140]).slice(1), ...steps([c.x - 280, c.y + 140], [c.x - 280, c.y - 130]).slice(1)])
  await waitFor(async () => (await page.locator('.note.selected').count()) === 2, { what: 'the lasso to select both notes' })

  // Group them; the title is typed on the (virtual) keyboard.
  // On a loaded machine Chromium's gesture detector can still fold this tap into the lasso's
  // gesture (no click): tap again only while no group exists, so it never groups twice.
  const titleBox = page.getByRole('textbox', { name: 'Titre du groupe' })
  for (let attempt = 0; ; attempt++) {
    await page.getByRole('button', { name: 'Grouper la sélection' }).tap()
    try {
      await titleBox.waitFor({ timeout: 3000 })
      break
    } catch (error) {
      if (attempt >= 2 || (await page.locator('.cluster').count()) > 0) throw error
    }
  }
  await page.keyboard.type('Fraîcheur')
  await page.keyboard.press('Enter')
  const cluster = page.locator('.cluster')
  await waitFor(async () => (await cluster.locator('.cluster-count').textContent()) === '2 notes', { what: 'a cluster of 2 notes' })

  // One finger on its title bar drags the cluster and its notes.
  const note = page.locator('.note', { hasText: 'Arbres' })
  const before = await notePosition(note)
  const bar = await cluster.locator('.cluster-header').boundingBox()
  await swipe(steps([bar.x + 60, bar.y + 20], [bar.x + 160, bar.y + 80]))
  await waitFor(async () => {
    const now = await notePosition(note)
    return Math.abs(now.x - before.x - 100) < 1 && Math.abs(now.y - before.y - 60) < 1
  }, { what: 'the note to move with its cluster' })

  // Open a vote and place a dot, all by taps.
  await page.getByRole('button', { name: 'Vote par points' }).tap()
  await page.getByRole('button', { name: 'Ouvrir le vote' }).tap()
  await page.getByRole('button', { name: 'Vote par points' }).tap()
  await note.getByRole('button', { name: 'Ajouter un point' }).tap()
  await waitFor(async () => (await page.locator('.vote-remaining').textContent()) === '4 points restants sur 5', { what: 'one dot placed' })
  assert.equal(await note.locator('.note-total').textContent(), '1 point')

  // The actions menu by taps: select everything.
  await page.getByRole('button', { name: 'Plus d’actions' }).tap()
  await page.getByRole('menuitem', { name: 'Tout sélectionner' }).tap()
  await waitFor(async () => (await page.locator('.note.selected, .cluster.selected').count()) === 3, { what: 'everything to be selected' })
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  await shot(page, 'organise-tablet')
  assert.deepEqual(tess.errors, [])
})
