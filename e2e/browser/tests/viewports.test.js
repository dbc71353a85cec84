// The UI at the two tablet sizes of the workshops, by touch alone: 1024×768 (landscape) and
// 768×1024 (portrait). Signing in, the project page and the board fit the screen (nothing
// sticks out sideways), every control is a large target (at least 44 px) inside the screen, the
// floating controls of the board do not cover each other, a double tap adds a note, a finger
// drags it, the zoom controls, the minimap and following a participant answer taps.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { ADMIN_PASSWORD } from '../../lib/tenancy.js'
import { waitFor } from '../../lib/util.js'
import { visibleWorld } from '../lib/boards.js'
import { canvasPoint, launchBrowser, notePosition, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const SIZES = [
  { name: 'landscape', viewport: { width: 1024, height: 768 } },
  { name: 'portrait', viewport: { width: 768, height: 1024 } }
]

/** Nothing is wider than the screen. */
async function assertNoSideways (page, what) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }))
  assert.ok(scroll <= width, `${what}: the page is ${scroll} px wide on a ${width} px screen`)
}

/** Every visible button and link in `scope` is at least 44×44 px (links: 44 px high) and on screen. */
async function assertLargeTargets (page, scope, what) {
  const small = await page.evaluate((sel) => {
    const out = []
    for (const el of document.querySelectorAll(`${sel} button, ${sel} a, ${sel} select`)) {
      const r = el.getBoundingClientRect()
      const style = getComputedStyle(el)
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || el.closest('[hidden], .visually-hidden')) continue
      const inline = el.tagName === 'A' && !el.closest('nav, header, .board-header')
      const tooSmall = r.height < 43.5 || (!inline && el.tagName !== 'A' && r.width < 43.5)
      const off = r.left < -0.5 || r.right > window.innerWidth + 0.5
      if (tooSmall || off) out.push(`${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') || el.textContent).trim().slice(0, 40)}" ${Math.round(r.width)}×${Math.round(r.height)} at x=${Math.round(r.left)}`)
    }
    return out
  }, scope)
  assert.deepEqual(small, [], `${what}: targets too small or off screen`)
}

function overlap (a, b) {
  return a && b && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

for (const size of SIZES) {
  e2eTest(`a ${size.viewport.width}×${size.viewport.height} touch tablet: sign in, project page, board by touch`, { timeout: 120_000 }, async (h) => {
    const server = await h.startServer()
    const board = await h.board(server, 'Tablette', ['bob'])
    const org = await h.tenancy(server)
    const contextOptions = { viewport: size.viewport, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }
    const admin = await participantPage(launched, server, { name: 'admin', contextOptions })
    const { page } = admin

    // Sign in by touch.
    await page.goto(`${server.httpUrl}/`)
    await page.getByLabel('Adresse e-mail').tap()
    await page.keyboard.type(org.adminEmail)
    await page.getByLabel('Mot de passe').tap()
    await page.keyboard.type(ADMIN_PASSWORD)
    await assertNoSideways(page, 'sign-in')
    await assertLargeTargets(page, 'main', 'sign-in')
    await page.getByRole('button', { name: 'Se connecter' }).tap()
    await page.getByRole('link', { name: 'e2e org' }).tap()
    await page.getByRole('heading', { name: 'Membres' }).waitFor()
    await page.getByRole('combobox', { name: 'Rôle de Bob' }).waitFor()
    await assertNoSideways(page, 'project page')
    await assertLargeTargets(page, 'main', 'project page')
    await shot(page, `tablet-${size.name}-project`)

    // The board: a participant to follow, the floating controls apart.
    const bob = await participantPage(launched, server, { name: 'bob', token: org.tokenOf('bob') })
    await bob.page.goto(`${server.httpUrl}/boards/${board}`)
    await page.getByRole('link', { name: 'Tablette' }).tap()
    await page.locator('.status-connection[data-state="connected"]').waitFor()
    await bob.page.locator('.status-connection[data-state="connected"]').waitFor()
    await assertNoSideways(page, 'board')
    await assertLargeTargets(page, '.board-header', 'board header')
    await assertLargeTargets(page, '.toolbar', 'toolbar')
    await assertLargeTargets(page, '.canvas', 'controls over the canvas')
    const [zoom, minimap, outline] = await Promise.all(['.zoom-controls', '.minimap', '#board-outline'].map((s) => page.locator(s).boundingBox()))
    assert.ok(!overlap(zoom, minimap), 'the zoom controls and the minimap do not overlap')
    if (outline) assert.ok(!overlap(outline, minimap) && !overlap(outline, zoom), 'the outline covers neither')

    // Double tap: a note; a finger drags it.
    const p = await canvasPoint(page, -120, -160)
    await page.touchscreen.tap(p.x, p.y)
    await page.touchscreen.tap(p.x, p.y)
    await page.locator('.note textarea').waitFor()
    await page.keyboard.type('Plus de bancs')
    const q = await canvasPoint(page, 200, 200)
    await page.touchscreen.tap(q.x, q.y)
    await waitFor(async () => (await page.locator('.note textarea').count()) === 0, { what: 'the editor to close' })
    const note = page.locator('.note', { hasText: 'Plus de bancs' })
    const start = await notePosition(note)
    const box = await note.boundingBox()
    const cdp = await admin.context.newCDPSession(page)
    const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...from, id: 0 }] })
    for (let i = 1; i <= 8; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: from.x + i * 10, y: from.y + i * 5, id: 0 }] })
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
    const scale = (await visibleWorld(page)).scale
    await waitFor(async () => {
      const now = await notePosition(note)
      return Math.abs(now.x - start.x - 80 / scale) < 2 && Math.abs(now.y - start.y - 40 / scale) < 2
    }, { what: 'a finger to drag the note by (80, 40) px' })
    await bob.page.locator('.note', { hasText: 'Plus de bancs' }).waitFor()
    await new Promise((resolve) => setTimeout(resolve, 800)) // Chromium's gesture detector (see access.test.js)

    // Zoom controls, minimap and following answer taps.
    const before = await visibleWorld(page)
    await page.getByRole('button', { name: 'Zoom avant' }).tap()
    await waitFor(async () => (await visibleWorld(page)).scale > before.scale * 1.2, { what: 'a tap on "Zoom avant"' })
    const map = await page.locator('.minimap-map').boundingBox()
    await page.touchscreen.tap(map.x + map.width * 0.9, map.y + map.height * 0.9)
    await waitFor(async () => (await visibleWorld(page)).x !== before.x, { what: 'a tap on the minimap to move the view' })
    await page.getByRole('button', { name: 'Suivre Bob', exact: true }).tap()
    await page.locator('.follow-banner').waitFor()
    await shot(page, `tablet-${size.name}-board`)
    await page.getByRole('button', { name: 'Arrêter de suivre Bob' }).tap()
    await page.locator('.follow-banner').waitFor({ state: 'hidden' })
    await page.getByRole('button', { name: 'Tout afficher' }).tap()
    await waitFor(async () => {
      const b = await note.boundingBox()
      const c = await page.locator('.canvas').boundingBox()
      return b && b.x >= c.x && b.x + b.width <= c.x + c.width
    }, { what: '"Tout afficher" to show the note' })
    assert.deepEqual([...admin.errors, ...bob.errors], [])
  })
}
