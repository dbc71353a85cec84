// How the board draws what it holds, where it matters for speed (docs/benchmarks.md, "Web UI"):
// strokes next to each other in the stacking order share one <svg>, sized to them, and stay
// stacked with the notes between them; a note's text is fitted to the note as laid out, and
// clipped only where it cannot fit.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { addNote, addStroke, writeBoard } from '../lib/boards.js'
import { launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

/** A wavy stroke from (x, y), `n` points 20 units apart. */
const wave = (x, y, n = 12) => Array.from({ length: n }, (_, i) => [x + i * 20, y + Math.sin(i / 2) * 30, 0.5])

e2eTest('strokes share an <svg> per run of the stacking order; note texts fit their notes', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'rendu', ['alice'])
  const org = await h.tenancy(server)
  // In stacking order (each item above the one before): two strokes, a note, a stroke across
  // it, a note whose text cannot fit.
  const ids = {}
  await writeBoard(server, board, org.tokenOf('alice'), (doc) => {
    ids.s1 = addStroke(doc, { points: wave(-400, -250) })
    ids.s2 = addStroke(doc, { points: wave(-400, -150), color: 'blue' })
    // Its text overflowed the note at the size estimated from the text's area alone (28 px).
    ids.n1 = addNote(doc, { x: -100, y: -80, text: 'ombre marché école navette vélo bus' })
    ids.s3 = addStroke(doc, { points: wave(-150, 0, 20), color: 'red' })
    ids.n2 = addNote(doc, { x: 200, y: -80, text: 'navette '.repeat(200).trim() })
  })
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const { page } = alice
  await openBoard(alice, server, board)
  const stroke = (id) => page.locator(`.stroke[data-item-id="${id}"]`)
  const note = (id) => page.locator(`.note[data-note-id="${id}"]`)
  await stroke(ids.s3).waitFor()

  // No <svg> per stroke: SVG content in two shared <svg>s, split by the note between them.
  const runOf = (id) => stroke(id).evaluate((el) => [...document.querySelectorAll('.vector-run')].indexOf(el.ownerSVGElement))
  await waitFor(async () => (await page.locator('.world svg').count()) === 2, { what: 'two runs of strokes' })
  assert.equal(await stroke(ids.s1).evaluate((el) => el.tagName), 'g')
  assert.equal(await runOf(ids.s1), await runOf(ids.s2), 'adjacent strokes share an <svg>')
  assert.notEqual(await runOf(ids.s3), await runOf(ids.s1), 'a note between strokes splits their run')
  // Stacked as the document says: run (s1, s2) < n1 < run (s3) < n2.
  const z = (locator) => locator.evaluate((el) => Number(getComputedStyle(el.ownerSVGElement ?? el).zIndex))
  const order = [await z(stroke(ids.s1)), await z(note(ids.n1)), await z(stroke(ids.s3)), await z(note(ids.n2))]
  assert.deepEqual([...order].sort((a, b) => a - b), order, `stacking order ${order}`)
  // Each <svg> covers its strokes (content outside an <svg>'s box slows every frame of a pan).
  const covered = () => page.evaluate(() => [...document.querySelectorAll('.vector-run')].every((run) => {
    const v = run.viewBox.baseVal
    return [...run.children].every((g) => {
      const b = g.getBBox()
      return b.x >= v.x && b.y >= v.y && b.x + b.width <= v.x + v.width && b.y + b.height <= v.y + v.height
    })
  }))
  assert.ok(await covered(), 'every run\'s <svg> covers its strokes')

  // A stroke moved (by another client) is drawn at its new place, its <svg> still covering it.
  const start = async (id) => (await stroke(id).locator('.stroke-hit').getAttribute('d')).match(/^M(-?[\d.]+) (-?[\d.]+)/).slice(1).map(Number)
  assert.deepEqual(await start(ids.s1), [-400, -250])
  const c = h.client(server, board, { as: 'alice' })
  await c.synced()
  c.doc.transact(() => c.doc.getMap('strokes').get(ids.s1).set('xy', [-1400, -1250]))
  await waitFor(async () => (await start(ids.s1))[0] === -1400, { what: 'the moved stroke to be drawn at its new place' })
  await waitFor(covered, { what: 'the run\'s <svg> to cover the moved stroke' })

  // The first note's text fits it, unclipped; the second's cannot, at the smallest size: clipped.
  const text = (id) => note(id).locator('.note-text').evaluate((el) => ({
    fits: el.scrollHeight <= el.clientHeight + 1,
    overflow: getComputedStyle(el).overflow,
    font: getComputedStyle(el).fontSize
  }))
  assert.deepEqual(await text(ids.n1).then((t) => [t.fits, t.overflow]), [true, 'visible'])
  assert.deepEqual(await text(ids.n2).then((t) => [t.fits, t.overflow, t.font]), [false, 'hidden', '12px'])
  // Editing keeps it fitted.
  await note(ids.n1).dblclick()
  await page.keyboard.press('End')
  await page.keyboard.type(' gare banc ombre marché')
  await page.keyboard.press('Escape')
  await waitFor(async () => (await text(ids.n1)).fits, { what: 'the longer text to fit its note' })
  assert.equal((await text(ids.n1)).overflow, 'visible')
  await shot(page, 'rendering')
  assert.deepEqual(alice.errors, [])
})
