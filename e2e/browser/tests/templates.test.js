// Tenant templates ("one format, many sessions"), in the real UI: a facilitator saves an evening's
// board (a locked prompt, phases, a participant's note with dots) as a template with
// "Enregistrer comme modèle", creates the next evening's board from it on the project page
// ("À partir d'un modèle"), finds the prompt and the phases there but not the participant's note,
// then opens the organisation's templates from the projects page and sees the boards made from it
// side by side in a table (notes, votes, signals, participants), after a session on one of them.

import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { apiCall } from '../../lib/tenancy.js'
import { waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { addNote, writeBoard } from '../lib/boards.js'
import { launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

e2eTest('a facilitator saves a board as a template, makes a board from it and compares the sessions', { timeout: 150_000 }, async (h) => {
  const server = await h.startServer()
  const board = await h.board(server, 'Soirée mobilité — Gare', ['paul'])
  const [fanny] = await h.participants(server, ['fanny'], { role: 'facilitator' })
  const org = await h.tenancy(server)
  const paul = org.account('paul')

  // The first evening: the facilitator's locked prompt, phases, an open vote.
  await writeBoard(server, board, fanny.token, (doc) => {
    const meta = doc.getMap('meta')
    meta.set('schema', 1)
    meta.set('kind', 'postit')
    meta.set('phases', [{ id: 'idees', title: 'Idées', minutes: 10 }, { id: 'vote', title: 'Vote', minutes: 5 }])
    meta.set('phase', 'vote')
    meta.set('votingOpen', true)
    const id = addNote(doc, { x: -300, y: -100, text: 'Consigne : quel trajet le samedi ?', color: 'orange', createdBy: fanny.id })
    doc.getMap('notes').get(id).set('locked', true)
  })
  // A participant's idea, then two dots on it (a new note carries no votes).
  let idea
  await writeBoard(server, board, paul.token, (doc, i) => {
    if (i === 0) idea = addNote(doc, { x: 0, y: -100, text: 'Un bus de nuit', createdBy: paul.id })
    else doc.getMap('notes').get(idea).get('votes').set(paul.id, 2)
  }, { batches: 2 })

  // ---- "Enregistrer comme modèle" on the board ----------------------------------------------
  const f = await participantPage(launched, server, { name: 'fanny', token: fanny.token })
  await openBoard(f, server, board)
  await f.page.locator('.world .note', { hasText: 'Un bus de nuit' }).waitFor()
  const save = f.page.getByRole('button', { name: 'Enregistrer comme modèle' })
  await save.click()
  const dialog = f.page.getByRole('dialog', { name: /Enregistrer « Soirée mobilité — Gare » comme modèle/ })
  await dialog.waitFor()
  const name = dialog.getByLabel('Nom du modèle')
  assert.equal(await name.inputValue(), 'Soirée mobilité — Gare', 'the board title is offered as the name')
  await name.fill('Soirée mobilité')
  await dialog.getByRole('button', { name: 'Enregistrer' }).click()
  await dialog.getByRole('status').filter({ hasText: 'Modèle « Soirée mobilité » enregistré.' }).waitFor()
  await shot(f.page, 'templates-saved')
  await dialog.getByRole('button', { name: 'Fermer' }).click()
  await dialog.waitFor({ state: 'detached' })
  // Participants have no such button.
  const p = await participantPage(launched, server, { name: 'paul', token: paul.token })
  await openBoard(p, server, board)
  assert.equal(await p.page.locator('[data-action="save-template"]').isVisible(), false, 'a participant has no "Enregistrer comme modèle"')

  // ---- a board from the template, on the project page ---------------------------------------
  await f.page.goto(`${server.httpUrl}/projects/${org.projectId}`)
  const from = f.page.getByLabel('À partir d’un modèle')
  await from.waitFor()
  await from.selectOption({ label: 'Soirée mobilité (Post-it)' })
  assert.equal(await f.page.getByLabel('Type d’atelier').isDisabled(), true, 'the kind comes from the template')
  await f.page.getByLabel('Titre', { exact: true }).fill('Soirée mobilité — Lycée')
  await f.page.getByRole('button', { name: 'Créer le tableau' }).click()
  const made = f.page.getByRole('link', { name: 'Soirée mobilité — Lycée' })
  await made.waitFor()
  await made.click()
  await f.page.locator('.status-connection[data-state="connected"]').waitFor()
  await f.page.locator('.world .note', { hasText: 'Consigne : quel trajet le samedi ?' }).waitFor()
  assert.equal(await f.page.locator('.world .note', { hasText: 'Un bus de nuit' }).count(), 0, 'the participant’s note stays on its evening')
  const lycee = new URL(f.page.url()).pathname.split('/').pop()
  await shot(f.page, 'templates-new-board')

  // The new board has the phases, not the vote (read by a stock client through the server).
  const templates = await apiCall(server, 'GET', '/templates', { token: fanny.token, expect: 200 })
  const template = templates.body.find((t) => t.name === 'Soirée mobilité')
  assert.ok(template, 'the template is listed')
  // A third evening, made through the API, and a session on the second one.
  await apiCall(server, 'POST', `/projects/${org.projectId}/boards`, { token: fanny.token, body: { title: 'Soirée mobilité — Mairie', template_id: template.id }, expect: 201 })
  await writeBoard(server, lycee, fanny.token, (doc) => {
    const meta = doc.getMap('meta')
    assert.deepEqual(meta.get('phases').map((ph) => ph.id), ['idees', 'vote'], 'the phases came with the template')
    assert.equal(meta.get('phase'), undefined, 'no current phase')
    assert.equal(meta.get('votingOpen'), undefined, 'no open vote')
    meta.set('votingOpen', true)
  })
  let signal
  await writeBoard(server, lycee, paul.token, (doc, i) => {
    if (i === 0) {
      signal = addNote(doc, { x: 0, y: 100, text: 'Navette électrique', createdBy: paul.id })
      doc.getMap('notes').get(signal).set('slot', { step: 'arrivee' })
      addNote(doc, { x: 250, y: 100, text: 'Vélos en libre-service', createdBy: paul.id })
    } else {
      doc.getMap('notes').get(signal).get('votes').set(paul.id, 3)
    }
  }, { batches: 2 })

  // ---- the templates page, from the projects page -------------------------------------------
  await f.page.goto(`${server.httpUrl}/`)
  await f.page.getByRole('link', { name: 'Modèles de l’organisation' }).click()
  await f.page.getByRole('heading', { level: 1, name: 'Modèles' }).waitFor()
  const card = f.page.getByRole('listitem').filter({ hasText: 'Soirée mobilité' })
  await card.getByText('2 tableaux créés à partir de lui').waitFor()
  await shot(f.page, 'templates-list')
  const listFound = await audit(f.page)
  assert.deepEqual(listFound, [], `accessibility of the templates list:\n${listFound.join('\n')}`)
  await card.getByRole('link', { name: 'Soirée mobilité' }).click()
  const table = f.page.getByRole('table', { name: /2 séances côte à côte/ })
  await table.waitFor()
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())))
  assert.equal(rows.length, 2, `two boards side by side: ${JSON.stringify(rows)}`)
  assert.equal(rows[0][0], 'Soirée mobilité — Lycée')
  assert.deepEqual(rows[0].slice(2), ['3', '3', '1', '2'], `notes, votes, signals, participants of the Lycée evening: ${JSON.stringify(rows)}`)
  assert.equal(rows[1][0], 'Soirée mobilité — Mairie')
  assert.deepEqual(rows[1].slice(2), ['1', '0', '0', '1'], `the Mairie evening has only the prompt: ${JSON.stringify(rows)}`)
  const headers = await table.locator('thead th').allTextContents()
  assert.deepEqual(headers, ['Tableau', 'Créé le', 'Notes', 'Votes', 'Signaux', 'Participants'])
  const total = await table.locator('tfoot td').allTextContents()
  assert.deepEqual(total.slice(1), ['4', '3', '1', '3'], `totals: ${JSON.stringify(total)}`)
  await shot(f.page, 'templates-side-by-side')
  const found = await audit(f.page)
  assert.deepEqual(found, [], `accessibility of the templates page:\n${found.join('\n')}`)
  // Each row links to its board.
  await table.getByRole('link', { name: 'Soirée mobilité — Lycée' }).click()
  await waitFor(() => f.page.url().endsWith(`/boards/${lycee}`), { what: 'the board to open from the table' })

  for (const x of [f, p]) assert.deepEqual(x.errors, [], `${x.name}: no console errors`)
})
