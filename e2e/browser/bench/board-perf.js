// UI performance of a large board (a measurement, not a test): 2,000 notes, 50 clusters and 500
// strokes, written through the document schema by a stock Node Yjs client over the real server,
// then opened in headless Chromium, which measures
//
//   - the time to first render: navigation start to the first frame after every note is in the
//     page;
//   - frame times while panning (wheel and drag) and zooming (ctrl + wheel), from
//     requestAnimationFrame timestamps, at the fitted view (everything visible, 10 %) and zoomed
//     in (twelve steps of `+` from there, 146 %: a few dozen notes in view);
//   - where the main thread's time goes meanwhile (DevTools protocol Performance metrics:
//     script, style recalculation, layout; with --trace, the renderer main thread's top trace
//     events, such as Layerize, Paint, PrePaint).
//
// Prints one JSON line. Run from e2e/browser (the server binary as for the tests; E2E_UI_DIR
// serves a freshly built bundle); frame rates move with the machine's load (in the line): run
// it several times and compare medians.
//
//   node bench/board-perf.js [--notes 2000] [--clusters 50] [--strokes 500] [--trace]
//     [--minimap open|closed] [--events 120]

import { parseArgs } from 'node:util'
import os from 'node:os'
import { AtelierServer } from '../../lib/server.js'
import { ensureTenancy } from '../../lib/tenancy.js'
import { addCluster, addNote, addStroke, writeBoard } from '../lib/boards.js'
import { launchBrowser, participantPage } from '../lib/browser.js'

const { values: args } = parseArgs({
  options: {
    notes: { type: 'string', default: '2000' },
    clusters: { type: 'string', default: '50' },
    strokes: { type: 'string', default: '500' },
    events: { type: 'string', default: '120' },
    trace: { type: 'boolean', default: false },
    minimap: { type: 'string', default: 'open' }
  }
})
const N_NOTES = Number(args.notes)
const N_CLUSTERS = Number(args.clusters)
const N_STROKES = Number(args.strokes)
const EVENTS = Number(args.events)
const trace = args.trace
const COLORS = ['yellow', 'orange', 'pink', 'violet', 'blue', 'green']

/** A deterministic pseudo-random sequence (same board every run). */
function random (seed) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** Notes on a grid, clusters over blocks of it (the notes inside belong to them), strokes around. */
function fill (doc, batch, batches) {
  const rand = random(42 + batch)
  const cols = Math.ceil(Math.sqrt(N_NOTES * 1.5))
  const per = Math.ceil(N_NOTES / batches)
  const clusterCols = Math.ceil(Math.sqrt(N_CLUSTERS * 1.5))
  const cell = { w: 240, h: 200 }
  // Clusters: a grid of blocks of 4 × 3 notes, written with the first batch.
  const clusters = []
  for (let c = 0; c < N_CLUSTERS; c++) {
    const bx = (c % clusterCols) * 5
    const by = Math.floor(c / clusterCols) * 4
    clusters.push({ id: `cluster-${c}`, col: bx, row: by, x: bx * cell.w - 20, y: by * cell.h - 60, w: 4 * cell.w + 20, h: 3 * cell.h + 60 })
  }
  if (batch === 0) {
    for (const c of clusters) addCluster(doc, { id: c.id, x: c.x, y: c.y, w: c.w, h: c.h, title: `Thème ${c.id.slice(8)}` })
  }
  for (let i = batch * per; i < Math.min(N_NOTES, (batch + 1) * per); i++) {
    const col = i % cols
    const row = Math.floor(i / cols)
    const inside = clusters.find((c) => col >= c.col && col < c.col + 4 && row >= c.row && row < c.row + 3)
    const words = Math.floor(rand() * 12) + 2
    addNote(doc, {
      x: col * cell.w,
      y: row * cell.h,
      color: COLORS[i % COLORS.length],
      text: Array.from({ length: words }, (_, k) => ['vélo', 'bus', 'gare', 'banc', 'ombre', 'marché', 'école', 'navette'][(i + k) % 8]).join(' '),
      parent: inside ? inside.id : null
    })
  }
  const strokesPer = Math.ceil(N_STROKES / batches)
  const width = cols * cell.w
  const height = Math.ceil(N_NOTES / cols) * cell.h
  for (let s = batch * strokesPer; s < Math.min(N_STROKES, (batch + 1) * strokesPer); s++) {
    let x = rand() * width
    let y = rand() * height
    const points = []
    for (let p = 0; p < 40; p++) {
      x += (rand() - 0.5) * 40
      y += (rand() - 0.5) * 40
      points.push([x, y, 0.3 + rand() * 0.5])
    }
    addStroke(doc, { points, width: 4, color: ['black', 'blue', 'red'][s % 3] })
  }
}

/** Statistics of frame intervals (ms). */
function frameStats (stamps) {
  const gaps = []
  for (let i = 1; i < stamps.length; i++) gaps.push(stamps[i] - stamps[i - 1])
  gaps.sort((a, b) => a - b)
  const q = (p) => gaps.length ? Number(gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))].toFixed(1)) : null
  const duration = stamps.length > 1 ? stamps[stamps.length - 1] - stamps[0] : 0
  return {
    frames: stamps.length,
    fps: duration > 0 ? Number(((stamps.length - 1) * 1000 / duration).toFixed(1)) : null,
    p50_ms: q(0.5),
    p95_ms: q(0.95),
    max_ms: gaps.length ? Number(gaps[gaps.length - 1].toFixed(1)) : null,
    over_20ms: gaps.filter((g) => g > 20).length
  }
}

async function main () {
  const server = new AtelierServer({ name: 'bench' })
  let launched
  try {
    await server.start()
    const org = await ensureTenancy(server)
    const board = await org.createBoard(server, 'Grand tableau')
    const batches = 20
    const writeStart = Date.now()
    for (let b = 0; b < batches; b++) await writeBoard(server, board, org.adminToken, (doc) => fill(doc, b, batches))
    const writeMs = Date.now() - writeStart

    launched = await launchBrowser()
    const p = await participantPage(launched, server, { name: 'bench', token: org.adminToken })
    const { page } = p
    await p.context.addInitScript((state) => localStorage.setItem('atelier.minimap', state), args.minimap)
    const cdp = await p.context.newCDPSession(page)
    await cdp.send('Performance.enable')

    // ---- first render ----
    await page.goto(`${server.httpUrl}/boards/${board}`)
    await page.waitForFunction((n) => document.querySelectorAll('.note').length >= n, N_NOTES, { polling: 'raf', timeout: 120_000 })
    const firstRenderMs = await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())))))
    await page.locator('.status-connection[data-state="connected"]').waitFor({ timeout: 60_000 })
    const domNodes = await page.evaluate(() => document.getElementsByTagName('*').length)
    const layers = await page.evaluate(() => ({
      notes: document.querySelectorAll('.note').length,
      clusters: document.querySelectorAll('.cluster').length,
      strokes: document.querySelectorAll('[data-stroke-id], .stroke').length,
      // <svg> roots in the board: each costs layerization at every frame (docs/benchmarks.md).
      svg_roots: document.querySelectorAll('.world svg').length
    }))
    // Let the page settle (fit, IndexedDB copy written).
    await page.waitForTimeout(1500)

    const canvas = await page.locator('.canvas').boundingBox()
    const cx = canvas.x + canvas.width / 2
    const cy = canvas.y + canvas.height / 2

    /** Records rAF timestamps and main-thread metrics while `drive` runs. */
    const measure = async (drive) => {
      const before = metricsOf(await cdp.send('Performance.getMetrics'))
      await page.evaluate(() => {
        // One recording loop at a time: each has its own generation.
        const generation = window.__generation = (window.__generation ?? 0) + 1
        window.__frames = []
        const loop = (t) => {
          if (window.__generation !== generation) return
          window.__frames.push(t)
          requestAnimationFrame(loop)
        }
        requestAnimationFrame(loop)
      })
      if (trace) await launched.browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] })
      await drive()
      const traced = trace ? summarise(JSON.parse((await launched.browser.stopTracing()).toString('utf8'))) : undefined
      const stamps = await page.evaluate(() => {
        window.__generation++
        return window.__frames
      })
      const after = metricsOf(await cdp.send('Performance.getMetrics'))
      const main = {}
      for (const k of ['ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration', 'TaskDuration']) main[k] = Number(((after[k] - before[k]) * 1000).toFixed(0))
      return { ...frameStats(stamps), main_thread_ms: main, ...(traced ? { trace_top_ms: traced } : {}) }
    }
    const wheelPan = () => measure(async () => {
      await page.mouse.move(cx, cy)
      for (let i = 0; i < EVENTS; i++) await page.mouse.wheel(i < EVENTS / 2 ? 12 : -12, i < EVENTS / 2 ? 8 : -8)
    })
    const dragPan = () => measure(async () => {
      await page.mouse.move(cx, cy)
      await page.mouse.down({ button: 'middle' })
      for (let i = 0; i < EVENTS; i++) {
        const k = i < EVENTS / 2 ? i : EVENTS - i
        await page.mouse.move(cx + k * 4, cy + k * 2)
      }
      await page.mouse.up({ button: 'middle' })
    })
    const zoom = () => measure(async () => {
      await page.mouse.move(cx, cy)
      await page.keyboard.down('Control')
      for (let i = 0; i < EVENTS; i++) await page.mouse.wheel(0, i < EVENTS / 2 ? -20 : 20)
      await page.keyboard.up('Control')
    })

    const fitted = { wheel_pan: await wheelPan(), drag_pan: await dragPan(), zoom: await zoom() }
    const fittedScale = await page.evaluate(() => document.querySelector('.status-zoom')?.textContent)
    // Zoomed in (146 %, near a workshop's usual working zoom): a few dozen notes in view.
    await page.evaluate(() => document.querySelector('.canvas').focus())
    await page.keyboard.press('Shift+1')
    await page.waitForTimeout(300)
    for (let i = 0; i < 12; i++) await page.keyboard.press('+')
    await page.waitForTimeout(500)
    const at100Scale = await page.evaluate(() => document.querySelector('.status-zoom')?.textContent)
    const at100 = { wheel_pan: await wheelPan(), drag_pan: await dragPan() }

    console.log(JSON.stringify({
      bench: 'board-ui',
      board: { notes: N_NOTES, clusters: N_CLUSTERS, strokes: N_STROKES, write_ms: writeMs },
      minimap: args.minimap,
      rendered: layers,
      dom_nodes: domNodes,
      first_render_ms: Number(firstRenderMs.toFixed(0)),
      fitted: { zoom_label: fittedScale, ...fitted },
      zoomed_in: { zoom_label: at100Scale, ...at100 },
      events_per_gesture: EVENTS,
      chromium: (await launched.browser.version()),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load1: Number(os.loadavg()[0].toFixed(2)) },
      errors: p.errors
    }))
  } finally {
    await launched?.close()
    await server.dispose()
  }
}

/** Total duration (ms) of the renderer main thread's top trace events, by name, largest first. */
function summarise ({ traceEvents }) {
  const main = new Set(traceEvents.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`))
  const totals = new Map()
  for (const e of traceEvents) {
    if (e.ph !== 'X' || !main.has(`${e.pid}:${e.tid}`) || !e.dur) continue
    totals.set(e.name, (totals.get(e.name) ?? 0) + e.dur / 1000)
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => [k, Number(v.toFixed(0))]))
}

function metricsOf ({ metrics }) {
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
