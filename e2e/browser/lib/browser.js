// Debian's Chromium driven by playwright-core, for the UI tests.
//
//   const browser = await launchBrowser()                 // once per test file
//   const alice = await participantPage(browser, server, { token, name: 'alice' })
//   await alice.page.goto(`${server.httpUrl}/boards/${board}`)
//   await shot(alice.page, 'two-participants-alice')      // artifacts/NAME.png
//
// Every participant gets its own browser context (its own storage, its own BroadcastChannel
// scope): two tabs of one context would sync through the provider's BroadcastChannel without
// the server, and a test would pass for the wrong reason.

import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { apiCall } from '../../lib/tenancy.js'
import { waitFor } from '../../lib/util.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const ARTIFACTS = path.resolve(HERE, '../artifacts')

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-gpu',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage'
]

/**
 * Launches Chromium headless. playwright-core gives every launch a fresh temporary user-data
 * dir (and removes it on close), and every context is a separate incognito-like profile.
 * Returns `newContext(options)` and `close()`.
 */
export async function launchBrowser () {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
  return {
    browser,
    newContext: (options = {}) => browser.newContext({ locale: 'fr-FR', ...options }),
    close: () => browser.close()
  }
}

/**
 * A participant: a new browser context (desktop 1280×800 unless `contextOptions` say otherwise)
 * with one page. With `token`, the page starts signed in (the session the UI keeps in
 * sessionStorage, for the user GET /auth/me names). Console errors and page errors are
 * collected in `errors`.
 */
export async function participantPage (launched, server, { token, name = 'participant', contextOptions = {} } = {}) {
  const context = await launched.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions })
  context.setDefaultTimeout(15_000)
  if (token) {
    const me = await apiCall(server, 'GET', '/auth/me', { token, expect: 200 })
    const session = { kind: 'user', token, user: me.body.user }
    await context.addInitScript((s) => {
      if (!sessionStorage.getItem('atelier.session')) sessionStorage.setItem('atelier.session', s)
    }, JSON.stringify(session))
  }
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (err) => errors.push(`${name}: page error: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${name}: console error: ${msg.text()}`)
  })
  return { name, context, page, errors }
}

/** Saves a full-page screenshot to artifacts/NAME.png and returns its path. */
export async function shot (page, name) {
  mkdirSync(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file })
  return file
}

/** Opens a board and waits until the status bar says "Connecté" and the first sync is done. */
export async function openBoard (p, server, boardId) {
  await p.page.goto(`${server.httpUrl}/boards/${boardId}`)
  await p.page.locator('.status-connection[data-state="connected"]').waitFor()
  await p.page.locator('.canvas').waitFor()
}

/** The centre of the canvas in page coordinates, offset by (dx, dy). */
export async function canvasPoint (page, dx = 0, dy = 0) {
  const box = await page.locator('.canvas').boundingBox()
  return { x: box.x + box.width / 2 + dx, y: box.y + box.height / 2 + dy }
}

/** The world position of a note, read from its transform: { x, y }. */
export async function notePosition (locator) {
  const transform = await locator.evaluate((el) => el.style.transform)
  const m = transform.match(/translate\(([-\d.]+)px, ([-\d.]+)px\)/)
  if (!m) throw new Error(`unexpected note transform ${transform}`)
  return { x: Number(m[1]), y: Number(m[2]) }
}

/**
 * A guest opens an invitation link, gives a display name and joins; resolves once the board is
 * connected. `tap`: press "Rejoindre" with a touch tap (contexts with `hasTouch`).
 */
export async function joinAsGuest (page, url, name, { tap = false } = {}) {
  await page.goto(url)
  await page.getByLabel('Votre nom ou prénom').fill(name)
  const join = page.getByRole('button', { name: 'Rejoindre' })
  if (tap) await join.tap()
  else await join.click()
  await page.locator('.status-connection[data-state="connected"]').waitFor()
}

/**
 * In the facilitator's agenda panel (`panel`, `#agenda-panel` open), adds phase number `index`
 * with its title, optional minutes, the kinds of additions allowed (their checkbox labels:
 * 'Notes', 'Groupes', 'Dessins, formes et images', 'Cadres') and whether it is silent.
 */
export async function definePhase (panel, index, title, minutes, allowed, silent = false) {
  await panel.getByRole('button', { name: 'Ajouter une phase' }).click()
  const row = panel.locator('.agenda-row').nth(index)
  await row.waitFor()
  await row.getByLabel('Titre').fill(title)
  await row.getByLabel('Titre').press('Enter')
  if (minutes) {
    await row.getByLabel('Durée (min)').fill(String(minutes))
    await row.getByLabel('Durée (min)').press('Tab')
  }
  for (const kind of ['Notes', 'Groupes', 'Dessins, formes et images', 'Cadres']) {
    const box = row.getByRole('checkbox', { name: kind })
    if ((await box.isChecked()) !== allowed.includes(kind)) await box.click()
  }
  if (silent) await row.getByRole('checkbox', { name: 'Écriture silencieuse' }).check()
  await waitFor(async () => (await row.getByLabel('Titre').inputValue()) === title, { what: `the phase "${title}" saved` })
}
