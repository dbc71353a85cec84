// Presence for facilitation: following a participant's view (tap them in the list; a banner
// says so; Escape, "Arrêter" or one's own pan stops it), a facilitator bringing everyone to
// their view (a notice, and "Revenir" goes back), on a desktop and on a 768×1024 touch tablet;
// and the minimap, which shows every item and moves the view where it is tapped.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { addNote, centre, visibleWorld, writeBoard } from '../lib/boards.js'
import { canvasPoint, launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

/** Whether `follower` shows (fitted) what `leader` sees: same centre, and all of it. */
async function showsViewOf (follower, leader) {
  const [a, b] = await Promise.all([visibleWorld(follower.page), visibleWorld(leader.page)])
  const [ca, cb] = [centre(a), centre(b)]
  const fits = a.w >= b.w - 2 && a.h >= b.h - 2 && (Math.abs(a.w - b.w) < 2 || Math.abs(a.h - b.h) < 2)
  return Math.abs(ca.x - cb.x) < 2 && Math.abs(ca.y - cb.y) < 2 && fits
}

/** A one-finger drag on the background (touch), through the DevTools protocol. */
async function touchDrag (p, from, to) {
  const cdp = await p.context.newCDPSession(p.page)
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: from.x, y: from.y, id: 0 }] })
  for (let i = 1; i <= 6; i++) {
    const k = i / 6
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: from.x + (to.x - from.x) * k, y: from.y + (to.y - from.y) * k, id: 0 }] })
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
  await cdp.detach()
}

e2eTest('following a participant, and a facilitator bringing everyone to their view (desktop and touch)', { timeout: 120_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'facilitation', ['bob'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  // Notes spread over a wide area, so that views differ.
  await writeBoard(server, board, fanny.token, (doc) => {
    addNote(doc, { x: -1200, y: -800, text: 'Nord-ouest', color: 'blue' })
    addNote(doc, { x: 1400, y: 900, text: 'Sud-est', color: 'green' })
    addNote(doc, { x: 0, y: 0, text: 'Centre' })
  })
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob'), contextOptions: TABLET })
  await openBoard(f, server, board)
  await openBoard(bob, server, board)
  await bob.page.locator('.participants', { hasText: 'Fanny' }).waitFor()

  // Only facilitators can bring everyone to their view.
  assert.equal(await bob.page.getByRole('button', { name: /Rassembler ici/ }).count(), 0, 'an editor has no "bring everyone here"')
  await f.page.getByRole('button', { name: /Rassembler ici/ }).waitFor()

  // Bob taps Fanny in the participant list: he follows her.
  const follow = bob.page.getByRole('button', { name: 'Suivre Fanny', exact: true })
  await follow.tap()
  await bob.page.getByRole('group', { name: 'Vous suivez Fanny' }).waitFor()
  assert.equal(await follow.getAttribute('aria-pressed'), 'true')
  // Fanny zooms in and pans towards the south-east note: Bob's view goes along.
  await f.page.locator('.canvas').focus()
  await f.page.keyboard.press('+')
  await f.page.keyboard.press('+')
  const fp = await canvasPoint(f.page)
  await f.page.mouse.move(fp.x, fp.y)
  await f.page.mouse.wheel(400, 300)
  await waitFor(() => showsViewOf(bob, f), { what: 'Bob to show Fanny\'s view' })
  await shot(bob.page, 'follow-tablet')
  await shot(f.page, 'follow-leader')

  // Bob pans with one finger: he stops following.
  const b0 = await canvasPoint(bob.page, 0, 200)
  await touchDrag(bob, b0, { x: b0.x + 150, y: b0.y + 60 })
  await waitFor(async () => (await bob.page.locator('.follow-banner').isHidden()), { what: 'a pan to stop following' })
  assert.equal(await follow.getAttribute('aria-pressed'), 'false')
  // Fanny moves again: Bob's view stays where he put it.
  const bobView = await visibleWorld(bob.page)
  await f.page.mouse.wheel(-300, 0)
  await new Promise((resolve) => setTimeout(resolve, 400))
  assert.deepEqual(await visibleWorld(bob.page), bobView, 'a participant no longer followed does not move the view')

  // Following again, then "Arrêter" (tap) stops it; on the desktop, Escape stops it too.
  // (Chromium's gesture detector swallows a tap that comes right after synthetic touch input.)
  await new Promise((resolve) => setTimeout(resolve, 800))
  await follow.tap()
  await bob.page.locator('.follow-banner').waitFor()
  await waitFor(() => showsViewOf(bob, f), { what: 'Bob to follow Fanny again' })
  await bob.page.getByRole('button', { name: 'Arrêter de suivre Fanny' }).tap()
  await waitFor(async () => (await bob.page.locator('.follow-banner').isHidden()), { what: '"Arrêter" to stop following' })
  await f.page.getByRole('button', { name: 'Suivre Bob', exact: true }).click()
  await waitFor(() => showsViewOf(f, bob), { what: 'Fanny to show Bob\'s view' })
  await f.page.keyboard.press('Escape')
  await waitFor(async () => (await f.page.locator('.follow-banner').isHidden()), { what: 'Escape to stop following' })

  // Fanny brings everyone to her view: Bob's view moves there, with a notice naming her.
  await f.page.keyboard.press('-')
  await f.page.mouse.wheel(-900, -700)
  await waitFor(async () => !(await showsViewOf(bob, f)), { what: 'the two views to differ' })
  const before = await visibleWorld(bob.page)
  await f.page.getByRole('button', { name: /Rassembler ici/ }).click()
  await bob.page.getByRole('group', { name: 'Fanny vous a amené·e à sa vue' }).waitFor()
  await waitFor(() => showsViewOf(bob, f), { what: 'Bob to be brought to Fanny\'s view' })
  await shot(bob.page, 'summoned-tablet')
  // "Revenir" takes him back where he was.
  await bob.page.getByRole('button', { name: 'Revenir' }).tap()
  await waitFor(async () => {
    const now = await visibleWorld(bob.page)
    return Math.abs(now.x - before.x) < 1 && Math.abs(now.y - before.y) < 1 && Math.abs(now.scale - before.scale) < 1e-3
  }, { what: '"Revenir" to restore Bob\'s view' })
  assert.equal(await bob.page.locator('.summon-notice').isHidden(), true)

  // Someone who joins afterwards is not moved by that earlier call.
  const late = await participantPage(launched, server, { name: 'late', token: org.tokenOf('bob') })
  await openBoard(late, server, board)
  await late.page.locator('.participants', { hasText: 'Fanny' }).waitFor()
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(await late.page.locator('.summon-notice').isHidden(), true, 'an old call is not replayed to a newcomer')
  assert.deepEqual([...f.errors, ...bob.errors, ...late.errors], [])
})

e2eTest('a crowd: the participant list shows a few, the rest are one tap away, and any of them can be followed', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const names = ['ana', 'ben', 'chloe', 'dan', 'eva', 'fred', 'gil', 'hugo']
  const board = await h.board(server, 'foule', ['alice', ...names])
  const org = await h.tenancy(server)
  // Eight participants through stock Yjs clients, each showing a different part of the board.
  const clients = names.map((name, i) => {
    const c = h.client(server, board, { as: name })
    c.awareness.setLocalState({
      user: { id: org.account(name).id, name: name[0].toUpperCase() + name.slice(1), color: '#1d4ed8', guest: false },
      cursor: null,
      selection: [],
      view: { x: i * 1000, y: 500, w: 800, h: 600 }
    })
    return c
  })
  await Promise.all(clients.map((c) => c.synced()))
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice'), contextOptions: TABLET })
  const { page } = alice
  await openBoard(alice, server, board)
  const more = page.locator('.participants-more')
  await more.waitFor()
  assert.equal(await page.locator('.participant-list button.participant').count(), 2, 'two others in the header of a tablet')
  assert.match(await more.textContent(), /^\+6/)
  assert.equal(await more.getAttribute('aria-expanded'), 'false')
  await more.tap()
  const panel = page.locator('#participants-panel')
  await panel.waitFor()
  assert.equal(await panel.getByRole('button').count(), 8, 'the list names everyone')
  await shot(page, 'crowd-list')
  await panel.getByRole('button', { name: 'Suivre Hugo', exact: true }).tap()
  await panel.waitFor({ state: 'hidden' })
  await page.getByRole('group', { name: 'Vous suivez Hugo' }).waitFor()
  await waitFor(async () => Math.abs(centre(await visibleWorld(page)).x - 7400) < 2, { what: 'Alice to show Hugo\'s view' })
  assert.deepEqual(alice.errors, [])
})

e2eTest('the minimap shows every item and moves the view where it is tapped; it collapses', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'minimap', ['alice'])
  const org = await h.tenancy(server)
  await writeBoard(server, board, org.tokenOf('alice'), (doc) => {
    addNote(doc, { x: 0, y: 0, text: 'Ici' })
    addNote(doc, { x: 4000, y: 2500, text: 'Très loin' })
  })
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const { page } = alice
  await openBoard(alice, server, board)
  const map = page.locator('.minimap-map')
  await map.waitFor()
  assert.equal(await map.getAttribute('aria-hidden'), 'true', 'hidden from screen readers (the outline serves them)')

  // Zoom in on the first note (the far one leaves the view).
  await page.locator('.canvas').focus()
  for (let i = 0; i < 5; i++) await page.keyboard.press('+')
  const far = page.locator('.note', { hasText: 'Très loin' })
  const canvasBox = await page.locator('.canvas').boundingBox()
  const inView = async () => {
    const b = await far.boundingBox()
    return b && b.x >= canvasBox.x && b.y >= canvasBox.y && b.x + b.width <= canvasBox.x + canvasBox.width && b.y + b.height <= canvasBox.y + canvasBox.height
  }
  await waitFor(async () => !(await inView()), { what: 'the far note to leave the view' })

  // The map draws the far note where it is: tapping there brings it into view.
  // The map redraws at most every 50 ms: wait until it shows the view that stopped moving.
  await waitFor(async () => {
    const a = await map.getAttribute('data-world')
    await new Promise((resolve) => setTimeout(resolve, 250))
    return a !== null && a === await map.getAttribute('data-world')
  }, { what: 'the minimap to draw the settled view' })
  const target = { x: 4100, y: 2580 }
  const mapPoint = async () => {
    const [wx, wy, ww, wh] = (await map.getAttribute('data-world')).split(' ').map(Number)
    const box = await map.boundingBox()
    const s = Math.min(box.width / ww, box.height / wh)
    const ox = (box.width - ww * s) / 2
    const oy = (box.height - wh * s) / 2
    return { x: box.x + ox + (target.x - wx) * s, y: box.y + oy + (target.y - wy) * s, local: [ox + (target.x - wx) * s, oy + (target.y - wy) * s] }
  }
  const p = await mapPoint()
  const pixel = await map.evaluate((el, [x, y]) => {
    const dpr = el.width / el.clientWidth
    return [...el.getContext('2d').getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data]
  }, p.local)
  assert.ok(pixel[3] > 0 && pixel[0] > 150 && pixel[2] < 100, `the far note is drawn on the map (pixel ${pixel})`)
  await page.mouse.click(p.x, p.y)
  await waitFor(inView, { what: 'a click on the minimap to bring the far note into view' })
  await shot(page, 'minimap')

  // A drag on the map pans continuously.
  const before = await visibleWorld(page)
  const box = await map.boundingBox()
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.3)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.4, { steps: 5 })
  await page.mouse.up()
  const after = await visibleWorld(page)
  assert.ok(centre(after).x < centre(before).x - 500, 'dragging on the map moved the view')

  // Collapsing: a labelled button, reachable by keyboard.
  const toggle = page.getByRole('button', { name: 'Masquer la mini-carte' })
  await toggle.focus()
  await page.keyboard.press('Enter')
  await page.getByRole('button', { name: 'Afficher la mini-carte' }).waitFor()
  assert.equal(await map.isHidden(), true)
  assert.equal(await page.getByRole('button', { name: 'Afficher la mini-carte' }).getAttribute('aria-expanded'), 'false')

  // "Tout afficher" fits every item.
  await page.getByRole('button', { name: 'Tout afficher' }).click()
  await waitFor(inView, { what: 'zoom to fit to show the far note' })
  await waitFor(async () => {
    const b = await page.locator('.note', { hasText: 'Ici' }).boundingBox()
    return b && b.x >= canvasBox.x && b.y >= canvasBox.y
  }, { what: 'zoom to fit to show the first note too' })
  assert.deepEqual(alice.errors, [])
})
