// The board by keyboard alone, as a screen-reader user would drive it: N adds a note, Escape
// leaves the text, arrows move the selected note, Enter edits, Tab walks the notes, Delete
// removes; the outline lists the notes as buttons that lead to them. And the view's mouse
// gestures (ctrl+wheel, space+drag, middle-drag, zoom to fit).

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { canvasPoint, launchBrowser, notePosition, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const focusedNote = (page) => page.evaluate(() => document.activeElement?.closest('.note')?.getAttribute('aria-label') ?? null)

e2eTest('notes by keyboard: add, edit, move, walk, delete, outline', { timeout: 90_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'clavier', ['alice'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const { page } = alice
  await openBoard(alice, server, board)

  // The canvas is a labelled region; N adds a note and opens its text.
  await page.getByRole('region', { name: 'Tableau « clavier »' }).focus()
  await page.keyboard.press('n')
  await page.getByRole('textbox', { name: 'Texte de la note' }).waitFor()
  await page.keyboard.type('Première idée')
  await page.keyboard.press('Escape')
  assert.match(await focusedNote(page), /^Première idée, jaune, sélectionnée$/)
  const first = page.locator('.note', { hasText: 'Première idée' })
  assert.equal(await first.getAttribute('role'), 'group')
  assert.equal(await first.getAttribute('aria-roledescription'), 'note')

  // Arrows move it (16 units, 80 with Shift).
  const start = await notePosition(first)
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('Shift+ArrowDown')
  await waitFor(async () => {
    const now = await notePosition(first)
    return now.x === start.x + 32 && now.y === start.y + 80
  }, { what: 'the note to move by (32, 80)' })

  // Enter edits again.
  await page.keyboard.press('Enter')
  await page.keyboard.type(' !')
  await page.keyboard.press('Escape')
  await first.filter({ hasText: 'Première idée !' }).waitFor()

  // A second note from the toolbar button.
  await page.getByRole('button', { name: 'Ajouter une note' }).click()
  await page.keyboard.type('Seconde idée')
  await page.keyboard.press('Escape')
  assert.match(await focusedNote(page), /^Seconde idée/)

  // Shift+Tab walks back to the first note; Delete removes it.
  await page.keyboard.press('Shift+Tab')
  assert.match(await focusedNote(page), /^Première idée !/)
  await page.keyboard.press('Delete')
  await waitFor(async () => (await page.locator('.note').count()) === 1, { what: 'the first note to be deleted' })

  // The outline lists what is left; activating an entry focuses that note.
  const entry = page.getByRole('complementary', { name: 'Plan du tableau' }).getByRole('button', { name: /Seconde idée/ })
  await entry.click()
  assert.match(await focusedNote(page), /^Seconde idée/)
  await page.locator('.status-saved[data-state="saved"]').waitFor()
  await shot(page, 'keyboard')
  assert.deepEqual(alice.errors, [])
})

e2eTest('the view: ctrl+wheel zooms, space+drag and middle-drag pan, "Tout afficher" fits', { timeout: 60_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'vue', ['alice'])
  const org = await h.tenancy(server)
  const alice = await participantPage(launched, server, { name: 'alice', token: org.tokenOf('alice') })
  const { page } = alice
  await openBoard(alice, server, board)
  await page.getByRole('button', { name: 'Ajouter une note' }).click()
  await page.keyboard.type('Repère')
  await page.keyboard.press('Escape')
  const note = page.locator('.note')
  const zoomLevel = async () => Number((await page.locator('.zoom-level').textContent()).replace(/\D/g, ''))
  const c = await canvasPoint(page, 250, 200)

  // Ctrl + wheel zooms in at the pointer.
  await page.mouse.move(c.x, c.y)
  await page.keyboard.down('Control')
  await page.mouse.wheel(0, -300)
  await page.keyboard.up('Control')
  await waitFor(async () => (await zoomLevel()) > 150, { what: 'ctrl+wheel to zoom in' })

  // Space + drag pans by the drag.
  let before = await note.boundingBox()
  await page.locator('.canvas').focus()
  await page.keyboard.down('Space')
  await page.mouse.move(c.x, c.y)
  await page.mouse.down()
  await page.mouse.move(c.x - 150, c.y - 40, { steps: 6 })
  await page.mouse.up()
  await page.keyboard.up('Space')
  await waitFor(async () => Math.abs((await note.boundingBox()).x - before.x + 150) < 2, { what: 'space+drag to pan' })

  // The middle button pans too.
  before = await note.boundingBox()
  await page.mouse.move(c.x, c.y)
  await page.mouse.down({ button: 'middle' })
  await page.mouse.move(c.x + 60, c.y + 90, { steps: 6 })
  await page.mouse.up({ button: 'middle' })
  await waitFor(async () => Math.abs((await note.boundingBox()).y - before.y - 90) < 2, { what: 'middle-drag to pan' })

  // "Tout afficher" brings the note back into view, at most at 100 %.
  await page.getByRole('button', { name: 'Tout afficher' }).click()
  await waitFor(async () => (await zoomLevel()) === 100, { what: 'zoom to fit' })
  const box = await note.boundingBox()
  const canvas = await page.locator('.canvas').boundingBox()
  assert.ok(box.x > canvas.x && box.x + box.width < canvas.x + canvas.width, 'the note is in view')
  assert.deepEqual(alice.errors, [])
})
