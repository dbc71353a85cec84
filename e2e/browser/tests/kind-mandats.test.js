// "Fabrique des mandats" (kind `mandats`): the live role matrix, with a facilitator, two
// participants (one on a 768×1024 touch tablet) and a viewer, each in their own browser
// context. Rows and columns added and renamed by different people appear for everyone, cells
// are set, the "exactly one A per row" rule flags a row with two A (in words, per row and in
// the summary) and clears when fixed, an empty column is flagged, a reorder is seen by the
// others, a deletion asks for confirmation, the facilitator adds a value to the value set and
// the viewer can change nothing.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { launchBrowser, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const WIDE = { viewport: { width: 1440, height: 960 } }
const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

const rowName = (page, n) => page.getByRole('textbox', { name: `Nom de la ligne ${n}`, exact: true })
const colName = (page, n) => page.getByRole('textbox', { name: `Nom de la colonne ${n}`, exact: true })
const cell = (page, row, col) => page.getByRole('combobox', { name: `« ${row} » pour « ${col} »`, exact: true })
const rowTitles = (page) => page.locator('.mandats-row-head .mandats-name').evaluateAll((els) => els.map((el) => el.value))
const colTitles = (page) => page.locator('.mandats-col-head .mandats-name').evaluateAll((els) => els.map((el) => el.value))
const summary = (page) => page.locator('.mandats-summary').innerText()

async function sameFor (pages, fn, expected, what) {
  for (const page of pages) {
    await waitFor(async () => JSON.stringify(await fn(page)) === JSON.stringify(expected), { what: `${what} (${await fn(page).then(JSON.stringify)})` })
  }
}

/** Opens the board (its main view is the matrix, not the canvas) and waits for the first sync. */
async function openBoard (p, server, boardId) {
  await p.page.goto(`${server.httpUrl}/boards/${boardId}`)
  await p.page.locator('.status-connection[data-state="connected"]').waitFor()
  await p.page.locator('.mandats-view').waitFor()
}

/** Adds a row or column with the button (a tap on the tablet) and types its title. */
async function addLine (page, kind, title, { touch = false } = {}) {
  const button = page.getByRole('button', { name: kind === 'row' ? 'Ajouter une ligne' : 'Ajouter une colonne' })
  if (touch) await button.tap()
  else await button.click()
  // The new line's title has the focus.
  await waitFor(() => page.evaluate(() => document.activeElement?.classList.contains('mandats-name') && document.activeElement.value === ''), { what: `the new ${kind}'s title to have the focus` })
  await page.keyboard.type(title)
}

e2eTest('mandats: a live role matrix shared by a facilitator, two participants (one on a tablet) and a viewer', { timeout: 180_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  await h.participants(server, ['camille', 'ines'])
  await h.participants(server, ['fanny'], { role: 'facilitator' })
  await h.participants(server, ['victor'], { role: 'viewer' })
  const board = await org.createBoard(server, 'Répartition des rôles', { kind: 'mandats' })
  const fanny = await participantPage(launched, server, { name: 'fanny', token: org.tokenOf('fanny'), contextOptions: WIDE })
  const camille = await participantPage(launched, server, { name: 'camille', token: org.tokenOf('camille'), contextOptions: WIDE })
  const ines = await participantPage(launched, server, { name: 'ines', token: org.tokenOf('ines'), contextOptions: TABLET })
  const victor = await participantPage(launched, server, { name: 'victor', token: org.tokenOf('victor') })
  for (const p of [fanny, camille, ines, victor]) await openBoard(p, server, board)
  const F = fanny.page
  const C = camille.page
  const I = ines.page
  const V = victor.page
  const everyone = [F, C, I, V]

  // The matrix is the board's main view, empty at first; the toggle shows the free board.
  for (const page of everyone) {
    await page.getByRole('heading', { name: 'Matrice des rôles' }).waitFor()
    await page.getByText('La matrice est vide').waitFor()
    assert.equal(await page.getByRole('button', { name: 'Matrice', exact: true }).getAttribute('aria-pressed'), 'true')
  }

  // Rows (people) and columns (roles) added by different people, on a desktop and a tablet.
  await addLine(C, 'row', 'Camille Martin')
  await sameFor(everyone, rowTitles, ['Camille Martin'], 'the first row for everyone')
  await addLine(I, 'row', 'Inès Roux', { touch: true })
  await sameFor(everyone, rowTitles, ['Camille Martin', 'Inès Roux'], 'the second row for everyone')
  await addLine(F, 'col', 'Animation')
  await sameFor(everyone, colTitles, ['Animation'], 'the first column')
  await addLine(I, 'col', 'Compte rendu', { touch: true })
  await sameFor(everyone, colTitles, ['Animation', 'Compte rendu'], 'the second column')
  await addLine(C, 'col', 'Logistique')
  await sameFor(everyone, colTitles, ['Animation', 'Compte rendu', 'Logistique'], 'the third column')

  // A rename typed by Camille reaches everyone (the titles are shared texts).
  await colName(C, 1).click()
  await C.keyboard.press('End')
  await C.keyboard.type(' des ateliers')
  await sameFor(everyone, colTitles, ['Animation des ateliers', 'Compte rendu', 'Logistique'], 'the renamed column')

  // The rules are on by default (R / A / C / I, one A per row, every column filled): with no
  // value yet every row and column is flagged, in words.
  await V.locator('.mandats-summary[data-state="problems"]').waitFor()
  assert.match(await summary(V), /5 points à revoir/)
  assert.match(await summary(V), /Ligne « Inès Roux » : Aucun A/)
  assert.match(await summary(V), /Colonne « Logistique » : aucune valeur/)

  // Cells set on the desktop and on the tablet.
  await cell(C, 'Camille Martin', 'Animation des ateliers').selectOption('A')
  await cell(I, 'Inès Roux', 'Compte rendu').selectOption('A')
  await cell(I, 'Inès Roux', 'Animation des ateliers').selectOption('C')
  await cell(C, 'Camille Martin', 'Logistique').selectOption('R')
  for (const page of everyone) {
    await waitFor(async () => (await cell(page, 'Camille Martin', 'Logistique').inputValue()) === 'R', { what: 'the cells to reach everyone' })
    assert.equal(await cell(page, 'Inès Roux', 'Compte rendu').inputValue(), 'A')
    assert.equal(await cell(page, 'Inès Roux', 'Animation des ateliers').inputValue(), 'C')
  }
  for (const page of everyone) await page.locator('.mandats-summary[data-state="ok"]', { hasText: 'Toutes les règles sont respectées' }).waitFor()
  await shot(F, 'mandats-ok-facilitator')

  // A second A on Camille's row: the row is flagged for everyone (symbol and words), then
  // cleared when Inès puts it back to R.
  await cell(C, 'Camille Martin', 'Logistique').selectOption('A')
  const camilleRow = (page) => page.locator('tbody tr', { has: page.locator('.mandats-row-head') }).filter({ has: page.locator('.mandats-check[data-state="problem"]') })
  for (const page of [F, I, V]) {
    await page.locator('.mandats-check[data-state="problem"]', { hasText: '2 A : un seul attendu' }).waitFor()
    assert.match(await summary(page), /1 point à revoir/)
    assert.match(await summary(page), /Ligne « Camille Martin » : 2 A : un seul attendu/)
    assert.equal(await camilleRow(page).count(), 1, 'one row flagged')
    assert.equal(await camilleRow(page).locator('.mandats-name').inputValue(), 'Camille Martin')
  }
  assert.equal(await I.locator('.mandats-check[data-state="problem"] .mandats-mark').first().textContent(), '⚠')
  await shot(I, 'mandats-two-a-tablet')
  await cell(I, 'Camille Martin', 'Logistique').selectOption('R')
  for (const page of everyone) {
    await page.locator('.mandats-summary[data-state="ok"]').waitFor()
    assert.equal(await page.locator('.mandats-check[data-state="problem"]').count(), 0)
  }

  // Reorder: Inès moves her row up (a tap), Fanny moves "Logistique" left; everyone sees both.
  await I.getByRole('button', { name: 'Monter « Inès Roux »' }).tap()
  await sameFor(everyone, rowTitles, ['Inès Roux', 'Camille Martin'], 'the rows reordered')
  await F.getByRole('button', { name: 'Déplacer « Logistique » à gauche' }).click()
  await sameFor(everyone, colTitles, ['Animation des ateliers', 'Logistique', 'Compte rendu'], 'the columns reordered')
  // The cells went along with their row and column.
  for (const page of [C, V]) {
    assert.equal(await cell(page, 'Camille Martin', 'Logistique').inputValue(), 'R')
    assert.equal(await cell(page, 'Inès Roux', 'Compte rendu').inputValue(), 'A')
  }
  // A moved row keeps its shared title: Camille renames hers after the move.
  await rowName(C, 2).click()
  await C.keyboard.press('End')
  await C.keyboard.type(' (DAEII)')
  await sameFor(everyone, rowTitles, ['Inès Roux', 'Camille Martin (DAEII)'], 'the moved row renamed')

  // Only the facilitator has the settings; she adds a value "P · Pilote" that everyone can pick.
  assert.equal(await C.locator('.mandats-settings').isVisible(), false)
  await F.locator('.mandats-settings summary').click()
  await F.getByLabel('Code (1 à 3 caractères)').fill('P')
  await F.getByLabel('Libellé', { exact: true }).fill('Pilote')
  await F.getByRole('button', { name: 'Ajouter la valeur' }).click()
  await waitFor(async () => (await cell(I, 'Inès Roux', 'Logistique').locator('option').allTextContents()).includes('P · Pilote'), { what: 'the new value on the tablet' })
  await cell(I, 'Inès Roux', 'Logistique').selectOption('P')
  await waitFor(async () => (await cell(V, 'Inès Roux', 'Logistique').inputValue()) === 'P', { what: 'the viewer to see the new value' })
  assert.match(await V.locator('.mandats-legend').innerText(), /P\s+Pilote/)
  // She switches the column rule off: the checks of the columns disappear.
  await F.getByLabel('Chaque colonne a au moins une valeur').uncheck()
  await waitFor(async () => !(await C.locator('.mandats-foot').isVisible()), { what: 'the column checks to go' })
  await shot(F, 'mandats-settings-facilitator')
  // No serious accessibility problem in the matrix and its settings (desktop), nor on the tablet.
  for (const page of [F, I]) {
    const found = await audit(page)
    assert.deepEqual(found, [], found.join('\n'))
  }

  // Deleting asks first; Annuler keeps the column, Supprimer removes it for everyone.
  await C.getByRole('button', { name: 'Supprimer « Compte rendu »' }).click()
  await C.locator('.mandats-confirm:visible').getByRole('button', { name: 'Annuler' }).click()
  assert.deepEqual(await colTitles(C), ['Animation des ateliers', 'Logistique', 'Compte rendu'])
  await C.getByRole('button', { name: 'Supprimer « Compte rendu »' }).click()
  assert.match(await C.locator('.mandats-confirm:visible').innerText(), /Supprimer la colonne « Compte rendu » et ses cases \?/)
  await C.locator('.mandats-confirm:visible').getByRole('button', { name: 'Supprimer', exact: true }).click()
  await sameFor(everyone, colTitles, ['Animation des ateliers', 'Logistique'], 'the column deleted')
  // Inès's only A was in it: her row is flagged again.
  await V.locator('.mandats-check[data-state="problem"]', { hasText: 'Aucun A' }).waitFor()

  // The viewer sees everything and can change nothing.
  assert.equal(await V.getByRole('button', { name: 'Ajouter une ligne' }).count(), 0)
  assert.equal(await V.locator('.mandats-view').getByRole('button', { name: /^(Supprimer|Monter|Descendre|Déplacer)/ }).count(), 0)
  assert.equal(await F.locator('.mandats-view').getByRole('button', { name: /^(Supprimer|Monter|Descendre|Déplacer)/ }).count(), 12, 'the editors have them (3 per line)')
  assert.equal(await cell(V, 'Inès Roux', 'Animation des ateliers').isDisabled(), true)
  assert.equal(await rowName(V, 1).getAttribute('readonly'), '')
  await rowName(V, 1).click()
  await V.keyboard.type('xyz')
  assert.deepEqual(await rowTitles(V), ['Inès Roux', 'Camille Martin (DAEII)'])
  await shot(V, 'mandats-viewer')
  await shot(I, 'mandats-tablet')

  // Keyboard: left and right arrows go from cell to cell along a row.
  await cell(C, 'Inès Roux', 'Animation des ateliers').focus()
  await C.keyboard.press('ArrowRight')
  assert.equal(await C.evaluate(() => document.activeElement.getAttribute('aria-label')), '« Inès Roux » pour « Logistique »')
  await C.keyboard.press('ArrowLeft')
  await C.keyboard.press('ArrowLeft')
  assert.equal(await C.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Nom de la ligne 1')

  // In English, the default values and the checks are in English too.
  await V.getByRole('button', { name: 'English' }).click()
  await V.getByRole('heading', { name: 'Role matrix' }).waitFor()
  assert.match(await summary(V), /Row “Inès Roux”: No A/)
  assert.match(await V.locator('.mandats-legend').innerText(), /A\s+Approuve/, 'labels written by the facilitator stay as written')

  // The free board is one tap away.
  await I.getByRole('button', { name: 'Tableau libre' }).tap()
  await I.locator('.canvas').waitFor({ state: 'visible' })
  assert.equal(await I.locator('.mandats-view').isVisible(), false)
  await I.getByRole('button', { name: 'Matrice', exact: true }).tap()
  await I.locator('.mandats-view').waitFor({ state: 'visible' })

  // In matrix view the toolbar has no tools that would only act on the hidden canvas (notes,
  // drawing, selection, colours, arrangement), and says so; undo and redo stay and work.
  const shown = (sel) => C.locator(`.toolbar ${sel}`).first().isVisible()
  for (const sel of ['[data-tool="add"]', '[data-tool="box"]', '[data-tool="lasso"]', '[data-tool="delete"]', '[data-tool="duplicate"]', '[data-draw-tool="pen"]', '.swatch[data-color]']) {
    assert.equal(await shown(sel), false, `${sel}: hidden in matrix view`)
  }
  assert.equal(await shown('[data-tool="undo"]'), true)
  assert.equal(await shown('[data-tool="redo"]'), true)
  const described = async () => C.locator('.toolbar').evaluate((el) => (el.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean).map((id) => document.getElementById(id)?.textContent ?? '').join(' '))
  assert.match(await described(), /Vue matrice : les outils du tableau libre .* sont masqués/)
  assert.match(await C.getByRole('button', { name: 'Tableau libre' }).evaluate((el) => document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? ''), /« Tableau libre » les rend/)
  await cell(C, 'Inès Roux', 'Logistique').selectOption('C')
  await C.locator('.toolbar [data-tool="undo"]:not([disabled])').click()
  await waitFor(async () => (await cell(C, 'Inès Roux', 'Logistique').inputValue()) === 'P', { what: 'the toolbar\'s undo to take the cell back' })
  // The canvas' shortcuts and paste do nothing either (the focus on the page, not in a field).
  await C.evaluate(() => { document.activeElement?.blur() })
  await C.keyboard.press('n')
  await C.keyboard.press('p')
  await C.evaluate(() => {
    const data = new DataTransfer()
    data.setData('text/plain', 'Collé dans la matrice')
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }))
  })
  // "Tableau libre": the tools are back, without the matrix's description, and nothing was added.
  await C.getByRole('button', { name: 'Tableau libre' }).click()
  await C.locator('.canvas').waitFor({ state: 'visible' })
  for (const sel of ['[data-tool="add"]', '[data-tool="box"]', '[data-draw-tool="pen"]', '.swatch[data-color]']) assert.equal(await shown(sel), true, `${sel}: back on the free board`)
  assert.equal(await described(), '')
  assert.equal(await C.locator('.world .note').count(), 0, 'no note added on the hidden board')
  assert.equal(await C.locator('.toolbar [data-draw-tool="pen"]').getAttribute('aria-pressed'), 'false', 'no drawing tool chosen')
  await shot(C, 'mandats-free-board-tools')
  await C.getByRole('button', { name: 'Matrice', exact: true }).click()
  await C.locator('.mandats-view').waitFor({ state: 'visible' })
  await shot(C, 'mandats-matrix-toolbar')

  await C.locator('.status-saved[data-state="saved"]').waitFor()
  assert.deepEqual(await rowTitles(C), ['Inès Roux', 'Camille Martin (DAEII)'])
  assert.deepEqual([...fanny.errors, ...camille.errors, ...ines.errors, ...victor.errors], [])
})
