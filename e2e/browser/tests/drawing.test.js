// The drawing tools, with two participants in separate browser contexts on one board: a pen
// stroke drawn with the mouse grows on the other screen (and is stored thinned); a rectangle, a
// note and an arrow from the note to the rectangle, whose end follows the note when the other
// participant moves it; the eraser removes a stroke for both; a text label; an uploaded image;
// undo. A viewer sees every drawing and has no drawing tools. On a touch tablet, a pen
// (pointerType "pen") draws, and a finger that touches the board during the stroke neither pans
// nor draws (palm rejection).

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { canvasPoint, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'
import { png } from '../lib/png.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

/** Presses a drawing tool's button (by its French name). */
async function tool (page, name) {
  await page.getByRole('button', { name, exact: true }).click()
  await waitFor(async () => (await page.getByRole('button', { name, exact: true }).getAttribute('aria-pressed')) === 'true',
    { what: `the ${name} tool to be active` })
}

/** Drags the mouse through `points` (page coordinates), `steps` moves between each. */
async function drag (page, points, steps = 8) {
  await page.mouse.move(points[0].x, points[0].y)
  await page.mouse.down()
  for (const p of points.slice(1)) await page.mouse.move(p.x, p.y, { steps })
  await page.mouse.up()
}

/** The points of a stroke's centre line, from its hit path ("M x y L x y ..."), world units. */
async function strokePoints (locator) {
  const d = await locator.locator('.stroke-hit').getAttribute('d')
  return [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])])
}

/** An arrow's two ends in world units, from its hit path. */
async function arrowEnds (locator) {
  const d = await locator.locator('.arrow-hit').getAttribute('d')
  const m = d.match(/M(-?[\d.]+) (-?[\d.]+)L(-?[\d.]+) (-?[\d.]+)/)
  assert.ok(m, `arrow path ${d}`)
  return { a: [Number(m[1]), Number(m[2])], b: [Number(m[3]), Number(m[4])] }
}

/** Distance from a point to a rectangle's outline (0 on it). */
function distToRectOutline ([x, y], r) {
  const inside = x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h
  if (inside) return Math.min(x - r.x, r.x + r.w - x, y - r.y, r.y + r.h - y)
  const dx = Math.max(r.x - x, 0, x - (r.x + r.w))
  const dy = Math.max(r.y - y, 0, y - (r.y + r.h))
  return Math.hypot(dx, dy)
}

/** A note's world rectangle. */
async function noteRect (locator) {
  const { x, y } = await notePosition(locator)
  const [w, h] = await locator.evaluate((el) => [parseFloat(el.style.width), parseFloat(el.style.height)])
  return { x, y, w, h }
}

/** A rectangle shape's world rectangle (drawn in world units, in the <svg> of its run). */
async function shapeRect (locator) {
  return locator.evaluate((el) => {
    const body = el.querySelector('.shape-body')
    const n = (name) => Number(body.getAttribute(name))
    return { x: n('x'), y: n('y'), w: n('width'), h: n('height') }
  })
}

/** The z-index an item is stacked with: its own, or its run's (strokes and shapes drawn in an
 * <svg> shared with the ones next to them in the stacking order). */
async function stackZ (locator) {
  return Number(await locator.evaluate((el) => getComputedStyle(el.ownerSVGElement ?? el).zIndex))
}

e2eTest('two participants draw together: pen, shapes, an arrow that follows a note, eraser, text, image, undo', { timeout: 150_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'dessin', ['alice', 'bob'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob') })
  await openBoard(alice, server, board)
  await openBoard(bob, server, board)
  const A = alice.page
  const B = bob.page

  // The palette: every tool with its shortcut in the tooltip, pressed state, large targets.
  for (const [name, key] of [['Sélection', 'V'], ['Stylo', 'P'], ['Gomme', 'E'], ['Rectangle', 'R'], ['Ellipse', 'O'], ['Flèche', 'A'], ['Texte', 'T'], ['Cadre', 'F'], ['Image', 'I']]) {
    const b = A.getByRole('button', { name, exact: true })
    assert.equal(await b.getAttribute('title'), `${name} (${key})`)
    const box = await b.boundingBox()
    assert.ok(box.width >= 44 && box.height >= 44, `${name} is a large target`)
  }
  assert.equal(await A.getByRole('button', { name: 'Sélection', exact: true }).getAttribute('aria-pressed'), 'true')

  // 1. A pen stroke drawn with the mouse appears for Bob, while it is being drawn.
  await tool(A, 'Stylo')
  const c = await canvasPoint(A, -250, -150)
  await A.mouse.move(c.x, c.y)
  await A.mouse.down()
  for (let i = 1; i <= 40; i++) await A.mouse.move(c.x + i * 4, c.y + Math.sin(i / 6) * 40)
  // Still drawing: Bob already sees the stroke.
  await B.locator('.stroke').waitFor()
  for (let i = 41; i <= 80; i++) await A.mouse.move(c.x + i * 4, c.y + Math.sin(i / 6) * 40)
  await A.mouse.up()
  const strokeA = A.locator('.stroke')
  const strokeB = B.locator('.stroke')
  await waitFor(async () => JSON.stringify(await strokePoints(strokeB)) === JSON.stringify(await strokePoints(strokeA)),
    { what: 'Bob to see the whole stroke where Alice drew it' })
  const wave = await strokePoints(strokeA)
  const span = Math.max(...wave.map((p) => p[0])) - Math.min(...wave.map((p) => p[0]))
  assert.ok(Math.abs(span - 320) < 8, `the stroke spans the 320 px drawn (${span})`)
  assert.ok(wave.length >= 10 && wave.length < 80, `a wave of 80 moves is kept as ${wave.length} points`)
  assert.ok((await strokeA.locator('.stroke-ink').getAttribute('d')).length > 100, 'the outline is drawn')
  // A straight line is thinned to a few points.
  const s = await canvasPoint(A, -250, 100)
  await drag(A, [s, { x: s.x + 300, y: s.y }], 60)
  await waitFor(async () => (await B.locator('.stroke').count()) === 2, { what: 'Bob to see the straight stroke' })
  const straight = await strokePoints(B.locator('.stroke').nth(1))
  assert.ok(straight.length <= 4, `a straight line of 60 moves is kept as ${straight.length} points`)
  // The pen stays the tool; Escape returns to selection.
  assert.equal(await A.getByRole('button', { name: 'Stylo', exact: true }).getAttribute('aria-pressed'), 'true')
  await A.keyboard.press('Escape')
  assert.equal(await A.getByRole('button', { name: 'Sélection', exact: true }).getAttribute('aria-pressed'), 'true')

  // 2. A rectangle (R), dragged out; then a note and an arrow from the note to the rectangle.
  await A.locator('.canvas').focus()
  await A.keyboard.press('r')
  assert.equal(await A.getByRole('button', { name: 'Rectangle', exact: true }).getAttribute('aria-pressed'), 'true')
  const r0 = await canvasPoint(A, 150, -60)
  await drag(A, [r0, { x: r0.x + 220, y: r0.y + 140 }])
  await B.locator('.shape-rect').waitFor()
  assert.equal(await A.getByRole('button', { name: 'Sélection', exact: true }).getAttribute('aria-pressed'), 'true', 'back to selection after a shape')
  assert.deepEqual(await shapeRect(B.locator('.shape-rect')).then((r) => [r.w, r.h]), [220, 140])
  // The new rectangle is selected: its corner handle resizes it, for Bob too.
  const se = await A.locator('.handle-se').boundingBox()
  await drag(A, [{ x: se.x + se.width / 2, y: se.y + se.height / 2 }, { x: se.x + se.width / 2 + 60, y: se.y + se.height / 2 + 40 }])
  await waitFor(async () => (await shapeRect(B.locator('.shape-rect'))).w === 280 && (await shapeRect(B.locator('.shape-rect'))).h === 180,
    { what: 'Bob to see the rectangle resized to 280×180' })
  const n0 = await canvasPoint(A, -150, 200)
  await A.mouse.dblclick(n0.x, n0.y)
  await A.locator('.note textarea').waitFor()
  await A.keyboard.type('Accueil')
  await A.keyboard.press('Escape')
  const noteA = A.locator('.note', { hasText: 'Accueil' })
  const noteB = B.locator('.note', { hasText: 'Accueil' })
  await noteB.waitFor()
  await tool(A, 'Flèche')
  await drag(A, [n0, { x: r0.x + 110, y: r0.y + 70 }])
  const arrowA = A.locator('.shape-arrow')
  const arrowB = B.locator('.shape-arrow')
  await arrowB.waitFor()
  assert.match(await arrowA.getAttribute('aria-label'), /Accueil/, 'the arrow says where it starts')
  const before = await arrowEnds(arrowA)
  assert.ok(distToRectOutline(before.a, await noteRect(noteA)) < 8, 'the arrow starts on the note\'s edge')

  // Bob moves the note up: on Alice's screen the arrow's start follows it.
  const nb = await noteB.boundingBox()
  await drag(B, [{ x: nb.x + 30, y: nb.y + 30 }, { x: nb.x + 30, y: nb.y - 220 }], 10)
  await waitFor(async () => Math.abs((await noteRect(noteA)).y - (await noteRect(noteB)).y) < 0.5 &&
    (await noteRect(noteA)).y < before.a[1] - 150, { what: 'Alice to see the note moved' })
  await waitFor(async () => {
    const now = await arrowEnds(arrowA)
    return distToRectOutline(now.a, await noteRect(noteA)) < 8 && Math.abs(now.a[1] - before.a[1]) > 50
  }, { what: 'the arrow to follow the note on Alice\'s screen' })
  const moved = await arrowEnds(arrowA)
  assert.ok(distToRectOutline(moved.b, await shapeRect(A.locator('.shape-rect'))) < 8, 'the other end stays on the rectangle')
  await shot(A, 'drawing-alice')
  await shot(B, 'drawing-bob')

  // A stroke drawn over the note is stacked above it (board-wide z-order).
  await tool(A, 'Stylo')
  const nr = await noteA.boundingBox()
  await drag(A, [{ x: nr.x - 30, y: nr.y + 20 }, { x: nr.x + nr.width + 30, y: nr.y + 60 }])
  await waitFor(async () => (await B.locator('.stroke').count()) === 3, { what: 'the stroke over the note' })
  await waitFor(async () => (await stackZ(B.locator('.stroke').nth(2))) > (await stackZ(noteB)),
    { what: 'the newer stroke to be above the note' })

  // 3. The eraser removes the wavy stroke (whole) for both.
  await tool(A, 'Gomme')
  const w = await strokeA.first().boundingBox()
  // (through its right end: the stroke over the note crosses its left part)
  await drag(A, [{ x: w.x + w.width - 20, y: w.y - 30 }, { x: w.x + w.width - 20, y: w.y + w.height + 30 }])
  await waitFor(async () => (await B.locator('.stroke').count()) === 2 && (await A.locator('.stroke').count()) === 2,
    { what: 'the erased stroke to disappear for both' })
  assert.equal(await B.locator('.shape-rect').count(), 1, 'the eraser left the rectangle alone')

  // 4. A text label typed by Alice appears for Bob.
  await tool(A, 'Texte')
  const tp = await canvasPoint(A, 250, 220)
  await A.mouse.click(tp.x, tp.y)
  await A.locator('textarea.label-editor').waitFor()
  await A.keyboard.type('Parcours usager')
  await A.keyboard.press('Escape')
  await B.locator('.shape-label', { hasText: 'Parcours usager' }).waitFor()

  // 5. An image uploaded from the file picker appears for Bob (fetched with the token).
  const chooser = A.waitForEvent('filechooser')
  await A.getByRole('button', { name: 'Image', exact: true }).click()
  await (await chooser).setFiles({ name: 'maquette.png', mimeType: 'image/png', buffer: png(320, 200) })
  const imageB = B.locator('.shape-image[data-state="ready"] img')
  await imageB.waitFor()
  assert.equal(await imageB.evaluate((img) => img.naturalWidth), 320)
  assert.match(await imageB.evaluate((img) => img.src), /^blob:/)
  assert.match(await B.locator('.shape-image').getAttribute('aria-label'), /maquette\.png/)
  const size = await B.locator('.shape-image').evaluate((el) => [parseFloat(el.style.width), parseFloat(el.style.height)])
  assert.deepEqual(size, [320, 200], 'placed at its natural size')
  await A.locator('.status-saved[data-state="saved"]').waitFor()
  await shot(A, 'drawing-alice-image')
  await shot(B, 'drawing-bob-image')
  // Strokes, shapes, an arrow, a label, an image, their handles and the drawing tools: axe finds
  // no serious or critical violation.
  const found = await audit(A)
  assert.deepEqual(found, [], `axe:\n${found.join('\n')}`)

  // 6. Undo takes back Alice's drawing, step by step (like notes: the text, then the item):
  // the image, the label's text, the label; redo brings them back.
  await A.locator('.canvas').focus()
  await A.keyboard.press('Control+z')
  await waitFor(async () => (await B.locator('.shape-image').count()) === 0, { what: 'the image to be undone for Bob' })
  await A.keyboard.press('Control+z')
  await waitFor(async () => (await B.locator('.shape-label').count()) === 1 && (await B.locator('.shape-label').textContent()) === '',
    { what: 'the label\'s text to be undone for Bob' })
  await A.keyboard.press('Control+z')
  await waitFor(async () => (await B.locator('.shape-label').count()) === 0, { what: 'the label to be undone for Bob' })
  await A.keyboard.press('Control+Shift+z')
  await A.keyboard.press('Control+Shift+z')
  await B.locator('.shape-label', { hasText: 'Parcours usager' }).waitFor()
  assert.equal(await B.locator('.stroke').count(), 2, 'the strokes were not undone')

  // 7. Deleting the rectangle leaves the arrow with a free end where it was; undo re-attaches it.
  const endBefore = (await arrowEnds(arrowB)).b
  const rect = await shapeRect(A.locator('.shape-rect'))
  const [ox, oy] = await A.evaluate(() => { const r = document.querySelector('.canvas').getBoundingClientRect(); return [r.left, r.top] })
  const view = await A.locator('.world').evaluate((el) => el.style.transform.match(/[-\d.]+/g).map(Number))
  await A.mouse.click(ox + view[0] + rect.x + rect.w, oy + view[1] + rect.y + rect.h / 2) // on its right edge
  await waitFor(async () => (await A.locator('.shape-rect.selected').count()) === 1, { what: 'a click on its outline to select the rectangle' })
  await A.keyboard.press('Delete')
  await waitFor(async () => (await B.locator('.shape-rect').count()) === 0, { what: 'the rectangle to be deleted for Bob' })
  await waitFor(async () => /un point libre/.test(await arrowB.getAttribute('aria-label')), { what: 'the arrow to end at a free point' })
  const endAfter = (await arrowEnds(arrowB)).b
  assert.ok(Math.hypot(endAfter[0] - endBefore[0], endAfter[1] - endBefore[1]) < 1, 'the free end stays where the arrow was drawn')
  await A.keyboard.press('Control+z')
  await B.locator('.shape-rect').waitFor()
  await waitFor(async () => !/un point libre/.test(await arrowB.getAttribute('aria-label')), { what: 'the arrow to be attached again' })

  assert.deepEqual([...alice.errors, ...bob.errors], [])
})

e2eTest('a viewer sees the drawings live but has no drawing tools', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'dessin lecture', ['alice'])
  await h.participants(server, ['victor'], { role: 'viewer' })
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const victor = await participantPage(launched, server, { name: 'victor', token: org.tokenOf('victor') })
  await openBoard(alice, server, board)
  await openBoard(victor, server, board)
  const V = victor.page

  await tool(alice.page, 'Stylo')
  const p = await canvasPoint(alice.page, -100, 0)
  await drag(alice.page, [p, { x: p.x + 150, y: p.y + 80 }, { x: p.x + 250, y: p.y - 40 }])
  await tool(alice.page, 'Ellipse')
  const e = await canvasPoint(alice.page, 100, -150)
  await drag(alice.page, [e, { x: e.x + 160, y: e.y + 100 }])
  await tool(alice.page, 'Cadre')
  const f = await canvasPoint(alice.page, -300, -250)
  await drag(alice.page, [f, { x: f.x + 500, y: f.y + 420 }])
  await alice.page.keyboard.type('Écran 1')
  await alice.page.keyboard.press('Enter')
  await V.locator('.stroke').waitFor()
  await V.locator('.shape-ellipse').waitFor()
  await V.locator('.frame', { hasText: 'Écran 1' }).waitFor()

  // Moving the frame by its title moves what lies inside it (the stroke), not what sticks out
  // of it (the ellipse).
  const strokeAt = async () => (await strokePoints(V.locator('.stroke')))[0]
  const ellipseAt = () => V.locator('.shape-ellipse .shape-body').evaluate((el) => `${el.getAttribute('cx')} ${el.getAttribute('cy')}`)
  const [sx0, sy0] = await strokeAt()
  const ellipse0 = await ellipseAt()
  const title = await alice.page.locator('.frame-title').boundingBox()
  await drag(alice.page, [{ x: title.x + title.width / 2, y: title.y + title.height / 2 }, { x: title.x + title.width / 2 + 100, y: title.y + title.height / 2 + 60 }])
  await waitFor(async () => { const [x, y] = await strokeAt(); return Math.abs(x - sx0 - 100) < 0.5 && Math.abs(y - sy0 - 60) < 0.5 },
    { what: 'the stroke to move with its frame' })
  assert.equal(await ellipseAt(), ellipse0, 'the ellipse, not inside the frame, stayed')

  // No drawing tool for a viewer, by pointer or by keyboard.
  await V.locator('.readonly-badge', { hasText: 'Lecture seule' }).waitFor()
  for (const name of ['Stylo', 'Gomme', 'Rectangle', 'Flèche', 'Texte', 'Cadre', 'Image']) {
    assert.equal(await V.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button`)
  }
  await V.locator('.canvas').focus()
  await V.keyboard.press('p')
  const q = await canvasPoint(V, 0, 150)
  await drag(V, [q, { x: q.x + 200, y: q.y + 50 }])
  await V.keyboard.press('e')
  const sb = await V.locator('.stroke').boundingBox()
  await drag(V, [{ x: sb.x + sb.width / 2, y: sb.y - 20 }, { x: sb.x + sb.width / 2, y: sb.y + sb.height + 20 }])
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(await V.locator('.stroke').count(), 1, 'the viewer drew and erased nothing')
  assert.equal(await alice.page.locator('.stroke').count(), 1)
  await shot(V, 'drawing-viewer')
  assert.deepEqual([...alice.errors, ...victor.errors], [])
})

e2eTest('on a touch tablet a pen draws, and a finger during the stroke neither pans nor draws', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'tablette', ['alice', 'bob'])
  const org = await h.tenancy(server)
  const tablet = await participantPage(launched, server, {
    name: 'alice',
    token: org.tokenOf('alice'),
    contextOptions: { viewport: { width: 1024, height: 768 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }
  })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob') })
  await openBoard(tablet, server, board)
  await openBoard(bob, server, board)
  const { page } = tablet
  await page.getByRole('button', { name: 'Stylo', exact: true }).tap()
  assert.equal(await page.getByRole('button', { name: 'Stylo', exact: true }).getAttribute('aria-pressed'), 'true')

  const cdp = await tablet.context.newCDPSession(page)
  const pen = (type, x, y, force = 0.5) => cdp.send('Input.dispatchMouseEvent', {
    type, x, y, button: 'left', buttons: type === 'mouseReleased' ? 0 : 1, clickCount: 1, pointerType: 'pen', force
  })
  const touch = (type, x, y) => cdp.send('Input.dispatchTouchEvent', {
    type, touchPoints: type === 'touchEnd' ? [] : [{ x, y, id: 7, radiusX: 12, radiusY: 12, force: 1 }]
  })
  const world = async () => page.locator('.world').evaluate((el) => el.style.transform)
  const view = await world()

  const c = await canvasPoint(page, -200, -50)
  await pen('mousePressed', c.x, c.y, 0.2)
  const wave = (i) => c.y + Math.sin(i / 4) * 40
  for (let i = 1; i <= 20; i++) await pen('mouseMoved', c.x + i * 10, wave(i), 0.2 + i * 0.035)
  // A palm (a finger) lands during the stroke and slides: ignored.
  const palm = await canvasPoint(page, 150, 200)
  await touch('touchStart', palm.x, palm.y)
  for (let i = 1; i <= 6; i++) await touch('touchMove', palm.x - i * 25, palm.y - i * 10)
  await touch('touchEnd')
  for (let i = 21; i <= 40; i++) await pen('mouseMoved', c.x + i * 10, wave(i), 0.9 - (i - 20) * 0.03)
  await pen('mouseReleased', c.x + 400, wave(40))

  await bob.page.locator('.stroke').waitFor()
  await waitFor(async () => (await strokePoints(bob.page.locator('.stroke'))).length >= 10, { what: 'Bob to see the pen stroke' })
  const pts = await strokePoints(page.locator('.stroke'))
  const span = Math.max(...pts.map((p) => p[0])) - Math.min(...pts.map((p) => p[0]))
  assert.ok(Math.abs(span - 400) < 10, `the pen stroke spans 400 px (${span})`)
  assert.equal(await page.locator('.stroke').count(), 1, 'the finger drew nothing')
  assert.equal(await world(), view, 'the finger did not pan the board')
  await shot(page, 'drawing-tablet-pen')

  // Once a pen has been used, one finger pans (the pen draws, fingers move the board)...
  await new Promise((resolve) => setTimeout(resolve, 700)) // past the palm-rejection grace period
  const f = await canvasPoint(page, 0, 200)
  await touch('touchStart', f.x, f.y)
  for (let i = 1; i <= 5; i++) await touch('touchMove', f.x + i * 20, f.y)
  await waitFor(async () => (await world()) !== view, { what: 'a finger to pan the board' })
  // ... but a palm that landed first stops panning as soon as the pen comes down.
  const d = await canvasPoint(page, -100, -150)
  await pen('mousePressed', d.x, d.y)
  const panned = await world()
  for (let i = 6; i <= 12; i++) {
    await touch('touchMove', f.x + i * 20, f.y)
    await pen('mouseMoved', d.x + (i - 5) * 20, d.y + Math.sin(i) * 30)
  }
  await touch('touchEnd')
  await pen('mouseReleased', d.x + 140, d.y)
  assert.equal(await world(), panned, 'the palm stopped panning when the pen came down')
  await waitFor(async () => (await page.locator('.stroke').count()) === 2, { what: 'the second pen stroke' })
  assert.deepEqual([...tablet.errors, ...bob.errors], [])
})

e2eTest('images by drop and paste, their error states, and the drawing schema as any Yjs client reads and writes it', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'images', ['alice', 'bob'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  await openBoard(alice, server, board)
  const A = alice.page
  const c = h.client(server, board, { as: 'bob' })
  await c.synced()
  const Y = (await import('../../lib/clients.js')).Y

  // A stroke and an image written by a stock Yjs client, following docs/board-schema.md.
  c.doc.transact(() => {
    const stroke = new Y.Map()
    const points = new Y.Array()
    points.push([0, 0, 50, 1000, 0, 50, 1000, 500, 80]) // tenths of a unit, pressure in percent
    stroke.set('type', 'stroke')
    stroke.set('points', points)
    stroke.set('xy', [-300, -200])
    stroke.set('color', 'red')
    stroke.set('width', 8)
    stroke.set('z', 'V')
    c.doc.getMap('strokes').set('stroke-from-a-client', stroke)
    const image = new Y.Map()
    image.set('type', 'image')
    image.set('asset', '00000000-0000-4000-8000-000000000000')
    image.set('xy', [0, 100])
    image.set('wh', [200, 150])
    image.set('z', 'W')
    c.doc.getMap('shapes').set('missing-image', image)
  })
  const red = A.locator('.stroke[data-ink="red"]')
  await red.waitFor()
  const pts = await strokePoints(red)
  assert.deepEqual(pts.map(([x, y]) => [Math.round(x), Math.round(y)]), [[-300, -200], [-200, -200], [-200, -150]])
  // Selected with a click on its line (the board's origin is in the centre of the view), it is
  // duplicated (Ctrl+D) with its colour and width, 24 units further.
  const o = await canvasPoint(A, 0, 0)
  await A.mouse.click(o.x - 300 + 50, o.y - 200)
  await waitFor(async () => (await red.first().getAttribute('class')).includes('selected'), { what: 'a click to select the stroke' })
  await A.keyboard.press('Control+d')
  await waitFor(async () => (await red.count()) === 2, { what: 'the duplicated stroke' })
  const [t0, t1] = [(await strokePoints(red.nth(0)))[0], (await strokePoints(red.nth(1)))[0]]
  assert.deepEqual([t1[0] - t0[0], t1[1] - t0[1]], [24, 24])
  assert.equal(await red.nth(1).evaluate((el) => el.style.getPropertyValue('--stroke-width')), '8px')
  await A.keyboard.press('Control+z')
  await waitFor(async () => (await red.count()) === 1, { what: 'the duplicate to be undone' })

  // An image the server does not have: a clear error state, not a broken picture.
  const missing = A.locator('.shape-image[data-state="error"]')
  await missing.waitFor()
  assert.equal(await missing.textContent(), 'Image indisponible')

  // Alice's stroke, as a stock client reads it.
  await tool(A, 'Stylo')
  const p = await canvasPoint(A, -100, 150)
  await drag(A, [p, { x: p.x + 100, y: p.y + 40 }, { x: p.x + 200, y: p.y - 20 }])
  await c.waitFor(() => [...c.doc.getMap('strokes').keys()].length === 2, { what: 'the client to get Alice\'s stroke' })
  const [id, stroke] = [...c.doc.getMap('strokes').entries()].find(([k]) => k !== 'stroke-from-a-client')
  assert.match(id, /^[0-9a-f-]{36}$/)
  const flat = stroke.get('points').toArray()
  assert.equal(flat.length % 3, 0)
  assert.ok(flat.every(Number.isInteger), 'points are integers (tenths of a unit, pressure in percent)')
  assert.deepEqual(flat.slice(0, 2), [0, 0], 'points are relative to xy')
  assert.equal(stroke.get('type'), 'stroke')
  assert.equal(stroke.get('color'), 'black')
  assert.equal(stroke.get('width'), 4)
  assert.equal(stroke.get('pressure'), false)
  assert.equal(stroke.get('createdBy'), org.account('alice').id)
  assert.ok(typeof stroke.get('z') === 'string' && stroke.get('z') > 'W', 'a new stroke goes on top')
  await A.keyboard.press('Escape')

  // A dropped image lands centred where it was dropped; a pasted one too (at the pointer).
  const drop = await canvasPoint(A, 200, -100)
  const bytes = [...png(120, 80)]
  const dispatch = (type, x, y, name) => A.evaluate(({ type, x, y, bytes, name }) => {
    const dt = new DataTransfer()
    dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }))
    const target = document.querySelector('.canvas')
    if (type === 'paste') document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))
    else target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, clientX: x, clientY: y, bubbles: true, cancelable: true }))
  }, { type, x, y, bytes, name })
  await dispatch('dragover', drop.x, drop.y, 'déposée.png')
  await dispatch('drop', drop.x, drop.y, 'déposée.png')
  const dropped = A.locator('.shape-image[aria-label*="déposée.png"]')
  await dropped.locator('img').waitFor()
  const db = await dropped.boundingBox()
  assert.ok(Math.abs(db.x + db.width / 2 - drop.x) < 2 && Math.abs(db.y + db.height / 2 - drop.y) < 2, 'centred on the drop point')
  assert.deepEqual([db.width, db.height], [120, 80])
  await A.mouse.move(drop.x - 300, drop.y + 250)
  await dispatch('paste', 0, 0, 'collée.png')
  await A.locator('.shape-image[aria-label*="collée.png"] img').waitFor()

  // Bytes that are not an image: the server refuses them and the board says why.
  await A.evaluate(() => {
    const dt = new DataTransfer()
    dt.items.add(new File([new TextEncoder().encode('pas une image')], 'faux.png', { type: 'image/png' }))
    document.querySelector('.canvas').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, clientX: 300, clientY: 300, bubbles: true, cancelable: true }))
  })
  await A.locator('.board-toast[role="alert"]', { hasText: 'Format non pris en charge' }).waitFor()
  assert.equal(await A.locator('.shape-image').count(), 3, 'nothing was added for the refused file')
  await shot(A, 'drawing-images')
  // The missing image (404) and the refused upload (415) are logged by the browser; nothing
  // else may go wrong.
  assert.deepEqual(alice.errors.filter((e) => !/status of (404|415)/.test(e)), [])
})

e2eTest('the drawing tools by keyboard alone', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'clavier', ['alice'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  await openBoard(alice, server, board)
  const { page } = alice
  const focused = () => page.evaluate(() => [document.activeElement?.getAttribute('aria-roledescription'), document.activeElement?.getAttribute('aria-label')])

  // R, then Enter: a rectangle in the centre of the view, selected and focused.
  await page.locator('.canvas').focus()
  await page.keyboard.press('r')
  await page.keyboard.press('Enter')
  await page.locator('.shape-rect').waitFor()
  assert.deepEqual(await focused(), ['rectangle', 'noir, moyen, sélectionné'])
  // The arrow keys move it (the board's own operations), Shift further.
  const at = () => shapeRect(page.locator('.shape-rect'))
  const r0 = await at()
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('Shift+ArrowDown')
  await waitFor(async () => { const r = await at(); return r.x === r0.x + 16 && r.y === r0.y + 80 },
    { what: 'the rectangle to move by (16, 80)' })
  // Alt + arrows resize it.
  const width = () => page.locator('.shape-rect .shape-body').evaluate((el) => Number(el.getAttribute('width')))
  const w0 = await width()
  await page.keyboard.press('Alt+ArrowRight')
  await waitFor(async () => (await width()) === w0 + 16, { what: 'Alt+→ to widen the rectangle by 16' })

  // T, Enter: a text label, edited at once; Escape ends the editing and keeps the focus on it.
  await page.keyboard.press('t')
  await page.keyboard.press('Enter')
  await page.locator('textarea.label-editor').waitFor()
  await page.keyboard.type('Idée forte')
  await page.keyboard.press('Escape')
  await waitFor(async () => (await focused())[0] === 'texte', { what: 'the focus to come back to the label' })
  assert.equal((await focused())[1], 'Idée forte, sélectionné')
  // Enter edits it again.
  await page.keyboard.press('Enter')
  await page.locator('textarea.label-editor').waitFor()
  await page.keyboard.type(' !')
  await page.keyboard.press('Escape')
  await page.locator('.shape-label', { hasText: 'Idée forte !' }).waitFor()

  // Shift+Tab reaches the rectangle; Delete removes it.
  await page.keyboard.press('Shift+Tab')
  assert.equal((await focused())[0], 'rectangle')
  await page.keyboard.press('Delete')
  await waitFor(async () => (await page.locator('.shape-rect').count()) === 0, { what: 'the rectangle to be deleted' })
  assert.equal(await page.locator('.shape-label').count(), 1)

  // P selects the pen, Escape goes back to selection; F, Enter: a frame whose title is typed.
  await page.locator('.canvas').focus()
  await page.keyboard.press('p')
  assert.equal(await page.getByRole('button', { name: 'Stylo', exact: true }).getAttribute('aria-pressed'), 'true')
  await page.keyboard.press('Escape')
  assert.equal(await page.getByRole('button', { name: 'Sélection', exact: true }).getAttribute('aria-pressed'), 'true')
  await page.keyboard.press('f')
  await page.keyboard.press('Enter')
  await page.locator('textarea.frame-title-editor').waitFor()
  await page.keyboard.type('Parcours')
  await page.keyboard.press('Enter')
  await page.locator('.frame', { hasText: 'Parcours' }).waitFor()
  assert.deepEqual(await focused(), ['cadre', 'Parcours, sélectionné'])
  await shot(page, 'drawing-keyboard')
  assert.deepEqual(alice.errors, [])
})
