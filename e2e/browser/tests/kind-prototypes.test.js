// "Atelier des prototypes" (kind `prototypes`): the gallery that walks the frames one by one
// for everyone, with a facilitator and two participants (one on a 768×1024 touch tablet), each
// in their own browser context. Frames come from a stock Yjs client and from a participant's
// frame tool; the facilitator starts the gallery, everyone's view fits the current frame, a
// counter says "Cadre n sur N" and the frame's title, "Cadre suivant" and the keyboard move
// everyone in reading order (rows top to bottom, left to right), a participant who looks
// around gets back with "Revenir à la galerie", and the facilitator ends it.

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { nextZ, visibleWorld, writeBoard, Y } from '../lib/boards.js'
import { audit } from '../lib/axe.js'
import { launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const WIDE = { viewport: { width: 1440, height: 960 } }
const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

/** A frame as docs/board-schema.md has it. */
function addFrame (doc, { x, y, w = 800, h = 600, title }) {
  const m = new Y.Map()
  m.set('type', 'frame')
  m.set('title', new Y.Text(title))
  m.set('xy', [x, y])
  m.set('wh', [w, h])
  m.set('z', nextZ())
  m.set('createdBy', 'e2e')
  m.set('createdAt', Date.now())
  doc.getMap('frames').set(randomUUID(), m)
}

const FRAMES = {
  Accueil: { x: 0, y: 0, w: 800, h: 600 },
  Inscription: { x: 1000, y: 40, w: 800, h: 600 },
  Suivi: { x: 1000, y: 800, w: 800, h: 600 }
}

/** Whether the page shows `r` whole, centred, filling most of the view one way. */
async function fitsFrame (page, r) {
  const v = await visibleWorld(page)
  const inside = r.x >= v.x - 1 && r.y >= v.y - 1 && r.x + r.w <= v.x + v.w + 1 && r.y + r.h <= v.y + v.h + 1
  const fills = r.w / v.w > 0.75 || r.h / v.h > 0.6
  const centred = Math.abs((r.x + r.w / 2) - (v.x + v.w / 2)) < v.w * 0.05
  return inside && fills && centred
}

/** One finger from (x, y) by (dx, dy) screen pixels (CDP touch events). */
async function fingerDrag (p, from, dx, dy) {
  const cdp = await p.context.newCDPSession(p.page)
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...from, id: 0 }] })
  for (let i = 1; i <= 8; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: from.x + dx * i / 8, y: from.y + dy * i / 8, id: 0 }] })
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
  await cdp.detach()
}

e2eTest('prototypes: a gallery walks the frames for everyone, on desktops and a tablet', { timeout: 180_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  await h.participants(server, ['camille', 'ines'])
  const [fannyAccount] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const board = await org.createBoard(server, 'Parcours usager', { kind: 'prototypes' })
  await writeBoard(server, board, fannyAccount.token, (doc) => {
    for (const [title, r] of Object.entries(FRAMES)) addFrame(doc, { ...r, title })
  })
  const fanny = await participantPage(launched, server, { name: 'fanny', token: org.tokenOf('fanny'), contextOptions: WIDE })
  const camille = await participantPage(launched, server, { name: 'camille', token: org.tokenOf('camille') })
  const ines = await participantPage(launched, server, { name: 'ines', token: org.tokenOf('ines'), contextOptions: TABLET })
  for (const p of [fanny, camille, ines]) await openBoard(p, server, board)
  const F = fanny.page
  const C = camille.page
  const I = ines.page
  for (const page of [F, C, I]) await page.locator('.frame', { hasText: 'Suivi' }).waitFor()

  // Camille draws a fourth frame with the frame tool, in the empty place of the second row.
  const v = await visibleWorld(C)
  const box = await C.locator('.canvas').boundingBox()
  const screen = (x, y) => ({ x: box.x + (x - v.x) * v.scale, y: box.y + (y - v.y) * v.scale })
  await C.getByRole('button', { name: 'Cadre', exact: true }).click()
  const a = screen(40, 820)
  const b = screen(820, 1400)
  await C.mouse.move(a.x, a.y)
  await C.mouse.down()
  await C.mouse.move(b.x, b.y, { steps: 10 })
  await C.mouse.up()
  await C.keyboard.type('Confirmation')
  await C.keyboard.press('Enter')
  await F.locator('.frame', { hasText: 'Confirmation' }).waitFor()
  const confirmation = await F.evaluate(() => {
    const el = [...document.querySelectorAll('.frame')].find((f) => f.textContent.includes('Confirmation'))
    const m = el.style.transform.match(/translate\(([-\d.]+)px, ([-\d.]+)px\)/)
    return { x: Number(m[1]), y: Number(m[2]), w: parseFloat(el.style.width), h: parseFloat(el.style.height) }
  })
  const frames = { ...FRAMES, Confirmation: confirmation }

  // Only the facilitator may start it; nobody sees a gallery yet.
  assert.equal(await C.getByRole('button', { name: 'Lancer la galerie' }).count(), 0)
  assert.equal(await I.getByRole('button', { name: 'Lancer la galerie' }).count(), 0)
  for (const page of [F, C, I]) assert.equal(await page.locator('.gallery-banner').isVisible(), false)

  // Fanny starts it: everyone's view fits the first frame (reading order), the counter says so.
  await F.getByRole('button', { name: 'Lancer la galerie' }).click()
  const counterIs = async (text) => {
    for (const page of [F, C, I]) {
      await waitFor(async () => (await page.locator('.gallery-text').textContent()) === text, { what: `"${text}" (${await page.locator('.gallery-text').textContent().catch(() => '')})` })
    }
  }
  const allFit = async (title) => {
    for (const page of [F, C, I]) await waitFor(() => fitsFrame(page, frames[title]), { what: `the view to fit ${title}` })
  }
  await counterIs('Cadre 1 sur 4 · Accueil')
  await allFit('Accueil')
  await shot(I, 'prototypes-gallery-tablet-1')

  // Participants have no controls; "Cadre suivant" moves everyone.
  assert.equal(await C.getByRole('button', { name: 'Cadre suivant' }).count(), 0)
  assert.equal(await I.getByRole('button', { name: 'Cadre suivant' }).count(), 0)
  assert.equal(await F.getByRole('button', { name: 'Cadre précédent' }).isDisabled(), true)
  await F.getByRole('button', { name: 'Cadre suivant' }).click()
  await counterIs('Cadre 2 sur 4 · Inscription')
  await allFit('Inscription')
  await shot(C, 'prototypes-gallery-desktop-2')

  // The keyboard: Page Down, then the right arrow (nothing selected), then Page Up.
  await F.locator('.canvas').focus()
  await F.keyboard.press('PageDown')
  await counterIs('Cadre 3 sur 4 · Confirmation')
  await allFit('Confirmation')
  await F.keyboard.press('ArrowRight')
  await counterIs('Cadre 4 sur 4 · Suivi')
  await allFit('Suivi')
  assert.equal(await F.getByRole('button', { name: 'Cadre suivant' }).isDisabled(), true)
  await F.keyboard.press('PageUp')
  await counterIs('Cadre 3 sur 4 · Confirmation')
  await allFit('Confirmation')
  await shot(F, 'prototypes-gallery-facilitator-3')
  for (const page of [F, I]) {
    const found = await audit(page)
    assert.deepEqual(found, [], found.join('\n'))
  }

  // Inès looks around with a finger; she gets back with "Revenir à la galerie".
  const back = I.getByRole('button', { name: 'Revenir à la galerie' })
  assert.equal(await back.isVisible(), false)
  const ibox = await I.locator('.canvas').boundingBox()
  await fingerDrag(ines, { x: ibox.x + ibox.width / 2, y: ibox.y + ibox.height - 120 }, -250, -200)
  await back.waitFor()
  assert.equal(await fitsFrame(I, frames.Confirmation), false, 'she moved away')
  await shot(I, 'prototypes-gallery-tablet-away')
  // (A finger lifted a moment ago: Chrome takes a tap at once after a drag as part of it.)
  await I.waitForTimeout(1000)
  await back.tap()
  await waitFor(() => fitsFrame(I, frames.Confirmation), { what: 'Inès back at the frame' })
  await waitFor(async () => !(await back.isVisible()), { what: 'the button to go once back' })

  // Away again, she is brought along when Fanny moves on.
  await fingerDrag(ines, { x: ibox.x + ibox.width / 2, y: ibox.y + ibox.height - 120 }, 200, -150)
  await back.waitFor()
  await F.getByRole('button', { name: 'Cadre suivant' }).click()
  await counterIs('Cadre 4 sur 4 · Suivi')
  await allFit('Suivi')
  assert.equal(await back.isVisible(), false)

  // Fanny ends it: the banner goes for everyone, the start button comes back for her.
  await F.getByRole('button', { name: 'Terminer la galerie' }).click()
  for (const page of [F, C, I]) await waitFor(async () => !(await page.locator('.gallery-banner').isVisible()), { what: 'the gallery to end' })
  await F.getByRole('button', { name: 'Lancer la galerie' }).waitFor()
  // With the gallery over, the arrow keys move the view no more for anyone.
  const before = await visibleWorld(C)
  await F.locator('.canvas').focus()
  await F.keyboard.press('PageDown')
  await C.waitForTimeout(300)
  assert.deepEqual(await visibleWorld(C), before)

  // Someone arriving while a gallery runs lands on its frame.
  await F.getByRole('button', { name: 'Lancer la galerie' }).click()
  await counterIs('Cadre 1 sur 4 · Accueil')
  await I.reload()
  await I.locator('.status-connection[data-state="connected"]').waitFor()
  await waitFor(async () => (await I.locator('.gallery-text').textContent().catch(() => '')) === 'Cadre 1 sur 4 · Accueil', { what: 'the counter after a reload' })
  await waitFor(() => fitsFrame(I, frames.Accueil), { what: 'the reloaded tablet to fit the frame' })

  assert.deepEqual([...fanny.errors, ...camille.errors, ...ines.errors], [])
})
