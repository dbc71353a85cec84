// Accessibility audit of a page with axe-core (pinned in package.json), for the UI tests.
//
//   const found = await audit(page)            // serious and critical violations only
//   assert.deepEqual(found, [])
//
// axe is evaluated through the DevTools protocol (page.evaluate), which the page's
// Content-Security-Policy does not apply to: the page under test is left exactly as served.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

/** WCAG 2.0, 2.1 and 2.2 A and AA rules, and axe's best practices. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']

/**
 * Runs axe on the whole page and returns its serious and critical violations as readable lines
 * (rule, impact, help, and the offending elements with axe's summary of each).
 */
export async function audit (page, { impacts = ['serious', 'critical'] } = {}) {
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined')
  if (!hasAxe) await page.evaluate(AXE_SOURCE)
  const result = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary }))
    }))
  }, TAGS)
  return result
    .filter((v) => impacts.includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target}\n      ${(n.summary ?? '').replace(/\n/g, '\n      ')}`).join('\n')}`)
}
