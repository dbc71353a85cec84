// The "Démarreur bienveillant" board kind (assets/src/kinds/demarreur.ts): a facilitator
// (Camille), an agent (Inès) on a desktop, and the élu (a guest who joins by invitation on a
// 768×1024 touch tablet). Only questions are admitted: the agent's statement is flagged in the
// composer and not posted as is (rephrased, or fixed with "?"); a note written on the board that
// is not a question shows "Pas une question" to its author only. The facilitator starts a
// session of a configured duration on the shared timer, groups questions into a notion clé and
// triages it, sets the current question: the élu, in the simplified view (no drawing tools,
// following the facilitator), sees it highlighted and stars it; the facilitator sees the star.
// Ending the session opens the summary for everyone (notion clé, status, questions, stars),
// downloadable as text.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before } from 'node:test'
import { e2eTest } from '../../lib/harness.js'
import { sleep, waitFor } from '../../lib/util.js'
import { audit } from '../lib/axe.js'
import { writeBoard } from '../lib/boards.js'
import { joinAsGuest, launchBrowser, openBoard, participantPage, shot } from '../lib/browser.js'

let launched
before(async () => { launched = await launchBrowser() })
after(async () => { await launched?.close() })

const TABLET = { viewport: { width: 768, height: 1024 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 }

const Q1 = 'Pourquoi l’offre culturelle est-elle concentrée dans les villes ?'
const Q2 = 'Comment définir une petite ville ?'
const Q3 = 'Quels acteurs culturels associer dès le départ ?'
const STATEMENT = 'Il faut un festival dans chaque petite ville.'
const FIXABLE = 'La Région peut coordonner les autres échelons'

e2eTest('démarreur bienveillant: questions only, notions clés triaged, the élu stars the current question on a tablet, the summary at the end', { timeout: 240_000 }, async (h) => {
  const server = await h.startServer()
  const org = await h.tenancy(server)
  const [camille] = await h.participants(server, ['camille'], { role: 'facilitator' })
  const [ines] = await h.participants(server, ['ines'])
  const board = await org.createBoard(server, 'Culture dans les petites villes', { kind: 'demarreur' })
  await writeBoard(server, board, camille.token, (doc) => {
    doc.getMap('meta').set('schema', 1)
    doc.getMap('meta').set('kind', 'demarreur')
  })
  const invite = await org.api(server, 'POST', `/boards/${board}/invites`, { body: { role: 'editor', expires_in_secs: 3600 }, expect: 201 })

  const f = await participantPage(launched, server, { name: 'camille', token: camille.token })
  const a = await participantPage(launched, server, { name: 'ines', token: ines.token })
  await Promise.all([openBoard(f, server, board), openBoard(a, server, board)])

  // ---- only questions ------------------------------------------------------------------------
  const composer = (p) => p.page.getByRole('textbox', { name: 'Posez une question…' })
  const noteAt = (p, text) => p.page.locator('.world .note', { hasText: text })
  await composer(a).fill(STATEMENT)
  await composer(a).press('Enter')
  const flag = a.page.locator('.demarreur-flagbox')
  await flag.waitFor()
  assert.match(await flag.textContent(), /Ce n’est pas une question/)
  assert.equal(await composer(a).getAttribute('aria-invalid'), 'true')
  await shot(a.page, 'demarreur-flagged-agent')
  const flaggedAudit = await audit(a.page)
  assert.deepEqual(flaggedAudit, [], `axe (agent, flagged composer):\n${flaggedAudit.join('\n')}`)
  await sleep(500)
  assert.equal(await noteAt(a, 'festival').count(), 0, 'the statement was not posted')
  assert.equal(await noteAt(f, 'festival').count(), 0, 'nobody received the statement')
  // Rephrased as a question, it is posted.
  await a.page.getByRole('button', { name: 'Reformuler' }).click()
  await composer(a).fill(Q1)
  await composer(a).press('Enter')
  await noteAt(f, Q1).waitFor()
  assert.equal(await flag.isHidden(), true, 'the flag went away')
  assert.equal(await composer(a).inputValue(), '', 'the composer is cleared')
  // A statement fixed with the offered "?".
  await composer(a).fill(FIXABLE)
  await composer(a).press('Enter')
  await flag.waitFor()
  await a.page.getByRole('button', { name: 'Ajouter « ? » et poser' }).click()
  await noteAt(f, `${FIXABLE} ?`).waitFor()
  assert.equal(await noteAt(f, FIXABLE).count(), 1, 'only the fixed question was posted')
  // More questions, from both (the facilitator too); "?" on the board goes to the composer.
  await a.page.locator('.canvas').focus()
  await a.page.keyboard.press('?')
  await waitFor(() => a.page.evaluate(() => document.activeElement?.classList.contains('demarreur-input')), { what: '"?" to focus the composer' })
  await composer(a).fill(Q2)
  await composer(a).press('Enter')
  await composer(f).fill(Q3)
  await composer(f).press('Enter')
  await Promise.all([noteAt(a, Q3).waitFor(), noteAt(f, Q2).waitFor()])

  // A note written directly on the board that is not a question: flagged to its author only.
  await a.page.locator('[data-tool="add"]').click()
  await a.page.locator('.note textarea').waitFor()
  await a.page.keyboard.type('Une idée de budget participatif')
  await a.page.keyboard.press('Escape')
  await noteAt(a, 'budget participatif').locator('.demarreur-note-flag', { hasText: 'Pas une question' }).waitFor()
  await noteAt(f, 'budget participatif').waitFor()
  assert.equal(await noteAt(f, 'budget participatif').locator('.demarreur-note-flag').count(), 0, 'the facilitator sees no flag on someone else’s note')
  await shot(a.page, 'demarreur-questions-agent')
  // Rephrased on the board as a question: the flag goes. (Then moved aside with the keyboard.)
  await noteAt(a, 'budget participatif').dblclick()
  await a.page.locator('.note textarea').waitFor()
  await a.page.keyboard.press('Control+A')
  await a.page.keyboard.type('Comment associer les habitants au budget ?')
  await a.page.keyboard.press('Escape')
  await noteAt(f, 'associer les habitants').waitFor()
  await waitFor(async () => (await noteAt(a, 'associer les habitants').locator('.demarreur-note-flag').count()) === 0, { what: 'the flag to go once it is a question' })
  await noteAt(a, 'associer les habitants').focus()
  for (let i = 0; i < 6; i++) await a.page.keyboard.press('Shift+ArrowDown')

  // ---- the élu joins by invitation on a tablet: the simplified view ---------------------------
  const elu = await participantPage(launched, server, { name: 'elu', contextOptions: TABLET })
  await joinAsGuest(elu.page, invite.body.url, 'Paul Lefèvre', { tap: true })
  await noteAt(elu, Q1).waitFor()
  await waitFor(async () => (await elu.page.locator('.board-layout').getAttribute('class')).includes('demarreur-simple'), { what: 'the simplified view on the élu’s tablet' })
  const simpleToggle = elu.page.locator('[data-tool="demarreur-simple"]')
  assert.equal(await simpleToggle.getAttribute('aria-pressed'), 'true')
  assert.equal(await elu.page.locator('.tool-palette').isVisible(), false, 'no drawing tools')
  assert.equal(await elu.page.locator('[data-tool="add"]').isVisible(), false, 'no note tools')
  assert.equal(await elu.page.locator('.demarreur-composer').isVisible(), false, 'the élu does not write questions')
  assert.equal(await elu.page.locator('[data-tool="demarreur-current"]').isVisible(), false, 'no facilitator tools')
  // The élu follows the facilitator.
  await elu.page.locator('.follow-banner', { hasText: 'Camille' }).waitFor()
  // The agent's and facilitator's views stay complete.
  assert.equal(await a.page.locator('.board-layout.demarreur-simple').count(), 0)
  assert.equal(await a.page.locator('.tool-palette').isVisible(), true)

  // ---- the session on the shared timer ---------------------------------------------------------
  await f.page.locator('[data-panel="demarreur-notions"]').click()
  const panel = f.page.locator('#demarreur-notions')
  await panel.waitFor()
  await panel.getByLabel('Durée (minutes)').fill('45')
  await panel.getByRole('button', { name: 'Lancer la séance' }).click()
  for (const p of [f, a, elu]) {
    await waitFor(async () => {
      const el = p.page.locator('.facilitation-strip .timer-time')
      if (!(await el.isVisible())) return false
      const [m] = (await el.textContent()).split(':').map(Number)
      return m === 44 || m === 45
    }, { what: `${p.name}: the 45-minute timer` })
  }
  // Participants may not start it.
  assert.equal(await a.page.locator('#demarreur-notions .demarreur-session').count() === 0 || await a.page.locator('#demarreur-notions .demarreur-session').isHidden(), true)

  // ---- a notion clé, triaged ---------------------------------------------------------------------
  // (Zoomed out: the questions clear the timer strip over the board.)
  await f.page.locator('.canvas').focus()
  await f.page.keyboard.press('-')
  await f.page.keyboard.press('-')
  await noteAt(f, Q1).click()
  await noteAt(f, Q2).click({ modifiers: ['Shift'] })
  await waitFor(async () => (await f.page.locator('.world .note.selected').count()) === 2, { what: 'two questions selected' })
  await panel.getByRole('button', { name: 'Grouper en notion clé' }).click()
  await f.page.locator('.cluster textarea').waitFor()
  await f.page.keyboard.type('Équilibre territorial')
  await f.page.keyboard.press('Enter')
  const status = panel.getByLabel('Statut de « Équilibre territorial »')
  await status.waitFor()
  assert.equal(await status.inputValue(), 'explore', 'a new notion is to explore')
  await status.selectOption('explored')
  for (const p of [f, a, elu]) {
    await p.page.locator('.cluster', { hasText: 'Équilibre territorial' }).locator('.demarreur-cluster-status', { hasText: 'Explorée' }).waitFor()
  }
  // The agent reads the triage but cannot change it.
  await a.page.locator('[data-panel="demarreur-notions"]').click()
  await a.page.locator('#demarreur-notions .demarreur-notion', { hasText: 'Équilibre territorial' }).locator('.demarreur-status-badge', { hasText: 'Explorée' }).waitFor()
  assert.equal(await a.page.locator('#demarreur-notions select').count(), 0, 'no triage control for the agent')
  await shot(f.page, 'demarreur-notions-facilitator')
  const notionsAudit = await audit(f.page)
  assert.deepEqual(notionsAudit, [], `axe (facilitator, notions clés):\n${notionsAudit.join('\n')}`)

  // ---- the current question, starred by the élu ----------------------------------------------------
  await noteAt(f, Q2).click()
  await waitFor(async () => (await f.page.locator('.world .note.selected').count()) === 1, { what: 'one question selected' })
  await f.page.locator('[data-tool="demarreur-current"]').click()
  await f.page.locator('.demarreur-banner .demarreur-banner-text', { hasText: Q2 }).waitFor()
  const eluBanner = elu.page.locator('.demarreur-banner')
  await eluBanner.locator('.demarreur-banner-text', { hasText: Q2 }).waitFor()
  await noteAt(elu, Q2).and(elu.page.locator('.demarreur-current')).waitFor()
  assert.equal(await noteAt(elu, Q1).and(elu.page.locator('.demarreur-current')).count(), 0, 'only the current question is highlighted')
  // Large text on the tablet.
  const size = await eluBanner.locator('.demarreur-banner-text').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
  assert.ok(size >= 28, `the current question is large on the élu's view (${size}px)`)
  await shot(elu.page, 'demarreur-elu-current')
  const star = elu.page.getByRole('button', { name: 'Mettre une étoile à la question en cours' })
  await star.tap()
  await elu.page.getByRole('button', { name: 'Retirer mon étoile de la question en cours' }).waitFor()
  assert.equal(await elu.page.locator('.demarreur-star').getAttribute('aria-pressed'), 'true')
  await noteAt(f, Q2).locator('.demarreur-note-stars', { hasText: '★ 1' }).waitFor()
  await f.page.locator('.demarreur-banner .demarreur-star-count', { hasText: '1 étoile' }).waitFor()
  await shot(elu.page, 'demarreur-elu-starred')
  const eluAudit = await audit(elu.page)
  assert.deepEqual(eluAudit, [], `axe (élu, simplified view):\n${eluAudit.join('\n')}`)
  // The highlight is visible on the élu's board (an amber ring), not only a class.
  const ring = await noteAt(elu, Q2).evaluate((el) => getComputedStyle(el).boxShadow)
  assert.match(ring, /rgb\(245, 158, 11\)/, `the current question is ringed (${ring})`)
  await shot(f.page, 'demarreur-facilitator-star')

  // ---- the end: the summary for everyone ----------------------------------------------------------
  await f.page.locator('[data-tool="demarreur-end"]').click()
  for (const p of [f, a, elu]) {
    const summary = p.page.locator('#demarreur-summary')
    await summary.waitFor()
    const notion = summary.locator('.demarreur-notion', { hasText: 'Équilibre territorial' })
    await notion.waitFor()
    assert.match(await notion.textContent(), /Explorée/, `${p.name}: the notion's status`)
    assert.match(await notion.textContent(), /Comment définir une petite ville \?★ 1/, `${p.name}: the starred question`)
    assert.match(await summary.textContent(), /Questions hors notion/)
  }
  // The timer stopped, the composer is gone.
  await waitFor(async () => (await f.page.locator('.facilitation-strip .timer').getAttribute('data-state')) === 'paused', { what: 'the timer paused' })
  assert.equal(await a.page.locator('.demarreur-composer').isVisible(), false, 'no more questions once ended')
  await shot(elu.page, 'demarreur-elu-summary')
  await shot(f.page, 'demarreur-facilitator-summary')
  const summaryAudit = await audit(f.page)
  assert.deepEqual(summaryAudit, [], `axe (facilitator, summary):\n${summaryAudit.join('\n')}`)
  const [download] = await Promise.all([
    f.page.waitForEvent('download'),
    f.page.locator('#demarreur-summary').getByRole('button', { name: 'Télécharger (.txt)' }).click()
  ])
  const text = readFileSync(await download.path(), 'utf8')
  assert.match(text, /1\. Équilibre territorial — Explorée/)
  assert.match(text, /- Comment définir une petite ville \? \(★ 1\)/)
  assert.match(text, /- Pourquoi l’offre culturelle est-elle concentrée dans les villes \?/)
  assert.match(text, /Questions hors notion\n {3}- /)

  // In English on the élu's tablet.
  await elu.page.getByRole('button', { name: 'English' }).tap()
  await elu.page.locator('#demarreur-summary .side-panel-title', { hasText: 'Session summary' }).waitFor()
  await elu.page.locator('#demarreur-summary .demarreur-notion', { hasText: 'Équilibre territorial' }).locator('.demarreur-status-badge', { hasText: 'Explored' }).waitFor()
  await elu.page.locator('#demarreur-summary', { hasText: 'Questions outside any notion' }).waitFor()
  await elu.page.locator('.demarreur-banner-label', { hasText: 'Current question' }).waitFor()
  await elu.page.getByRole('button', { name: 'Remove my star from the current question' }).waitFor()
  await shot(elu.page, 'demarreur-elu-summary-en')

  // Resumed: the composer is back and the timer runs on.
  await f.page.locator('[data-tool="demarreur-end"]', { hasText: 'Reprendre la séance' }).click()
  await composer(a).waitFor()
  await waitFor(async () => (await f.page.locator('.facilitation-strip .timer').getAttribute('data-state')) === 'running', { what: 'the timer running again' })

  assert.deepEqual([...f.errors, ...a.errors, ...elu.errors], [])
})
