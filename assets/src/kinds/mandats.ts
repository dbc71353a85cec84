// "Fabrique des mandats" (kind `mandats`): a live role matrix (docs/board-schema.md, "Board
// kinds"). Rows are people (or tasks), columns are roles; each cell holds one value of the
// board's value set (R / A / C / I unless facilitators defined their own in `meta.mandats`).
// Everyone who may edit adds, renames (the titles are shared Y.Text), reorders and deletes rows
// and columns and sets cells, all live; the rules (`onePerRow`, `everyColumn`) are checked as
// the matrix changes and shown per row, per column and as a summary, in words and with a
// symbol (never by colour alone). Viewers see the same matrix, read-only.
//
// The matrix is the kind's main view: a toggle switches between it and the free board (the
// canvas, for notes and drawings around the matrix). In matrix view the toolbar's tools that
// only act on the canvas (notes, drawing, selection, colours, arrangement) are hidden (CSS on
// the layout's `mandats-on` class), their shortcuts, paste and cut do nothing, and the toolbar's
// description says why; undo and redo stay.

import * as Y from 'yjs'
import { announce, h } from '../dom'
import { onLanguageChange, t } from '../i18n'
import { boardBounds } from '../board/layers'
import { icon } from '../board/icons'
import { metaOf } from '../board/schema'
import { LOCAL } from '../board/sync'
import { bindTextarea } from '../board/textbinding'
import type { KindHost, KindView } from './index'

// ---- the document ------------------------------------------------------------------------------

export const MATRIX_ROOT = 'matrix'
export const MATRIX = { rows: 'rows', cols: 'cols', cells: 'cells' } as const
export const MANDATS_META = 'mandats'
const MAX_TITLE = 200
const MAX_VALUES = 12

export interface MandatValue { id: string, label: string }
export interface MandatSettings { values: MandatValue[], onePerRow: string | null, everyColumn: boolean }
interface Line { id: string, title: Y.Text, index: number }

const DEFAULT_IDS = ['R', 'A', 'C', 'I'] as const

export function defaultValues (): MandatValue[] {
  return DEFAULT_IDS.map((id) => ({ id, label: t(`value.${id}`) }))
}

/** The settings as `meta.mandats` has them; without it, R / A / C / I with both rules on. */
export function readSettings (raw: unknown): MandatSettings {
  if (!raw || typeof raw !== 'object') return { values: defaultValues(), onePerRow: 'A', everyColumn: true }
  const r = raw as Record<string, unknown>
  const seen = new Set<string>()
  const values: MandatValue[] = []
  if (Array.isArray(r.values)) {
    for (const v of r.values) {
      if (!v || typeof v !== 'object') continue
      const { id, label } = v as Record<string, unknown>
      if (typeof id !== 'string' || id.length === 0 || id.length > 16 || seen.has(id)) continue
      seen.add(id)
      values.push({ id, label: typeof label === 'string' ? label.slice(0, 80) : id })
    }
  }
  const list = values.length > 0 ? values.slice(0, MAX_VALUES) : defaultValues()
  const one = typeof r.onePerRow === 'string' && list.some((v) => v.id === r.onePerRow) ? r.onePerRow : null
  return { values: list, onePerRow: one, everyColumn: r.everyColumn === true }
}

/** The rows or columns in order; a line duplicated by two concurrent moves counts once. */
function lines (arr: Y.Array<Y.Map<unknown>> | null): Line[] {
  const out: Line[] = []
  if (!arr) return out
  const seen = new Set<string>()
  arr.forEach((m, index) => {
    if (!(m instanceof Y.Map)) return
    const id = m.get('id')
    const title = m.get('title')
    if (typeof id !== 'string' || seen.has(id) || !(title instanceof Y.Text)) return
    seen.add(id)
    out.push({ id, title, index })
  })
  return out
}

const cellKey = (row: string, col: string): string => `${row}:${col}`
const titleOf = (l: Line): string => l.title.toString().trim() || t('mandats.untitled')

/** The rule checks of one matrix. */
export interface Checks {
  rows: Map<string, { count: number, ok: boolean }>
  cols: Map<string, boolean>
  problems: string[]
}

function check (rows: Line[], cols: Line[], cells: Y.Map<unknown> | null, s: MandatSettings): Checks {
  const value = (r: string, c: string): unknown => cells?.get(cellKey(r, c))
  const out: Checks = { rows: new Map(), cols: new Map(), problems: [] }
  if (s.onePerRow !== null) {
    for (const r of rows) {
      const count = cols.filter((c) => value(r.id, c.id) === s.onePerRow).length
      out.rows.set(r.id, { count, ok: count === 1 })
      if (count !== 1) out.problems.push(t('mandats.problemRow', { title: titleOf(r), detail: rowDetail(count, s.onePerRow) }))
    }
  }
  if (s.everyColumn) {
    for (const c of cols) {
      const filled = rows.some((r) => { const v = value(r.id, c.id); return typeof v === 'string' && v !== '' })
      out.cols.set(c.id, filled)
      if (!filled) out.problems.push(t('mandats.problemCol', { title: titleOf(c) }))
    }
  }
  return out
}

function rowDetail (count: number, code: string): string {
  if (count === 1) return t('mandats.rowOk', { code })
  return count === 0 ? t('mandats.rowNone', { code }) : t('mandats.rowMany', { n: count, code })
}

// ---- the view ----------------------------------------------------------------------------------

interface HeaderView {
  kind: 'row' | 'col'
  id: string
  el: HTMLTableCellElement
  input: HTMLInputElement
  text: Y.Text | null
  unbind: () => void
  before: HTMLButtonElement
  after: HTMLButtonElement
  remove: HTMLButtonElement
  confirm: HTMLElement
  confirmText: HTMLElement
  confirmYes: HTMLButtonElement
  confirmNo: HTMLButtonElement
}

interface RowView {
  header: HeaderView
  tr: HTMLTableRowElement
  cells: Map<string, { td: HTMLTableCellElement, select: HTMLSelectElement, optionsFor: string }>
  check: HTMLTableCellElement
}

export function mountMandats (host: KindHost): KindView {
  const { ctx } = host
  const doc = ctx.doc
  const matrix = doc.getMap<unknown>(MATRIX_ROOT)
  const meta = metaOf(doc)
  // Undo takes back one's own matrix changes too.
  ctx.undo.addToScope(matrix)

  const arr = (key: 'rows' | 'cols'): Y.Array<Y.Map<unknown>> | null => {
    const a = matrix.get(MATRIX[key])
    return a instanceof Y.Array ? a as Y.Array<Y.Map<unknown>> : null
  }
  const cells = (): Y.Map<unknown> | null => {
    const c = matrix.get(MATRIX.cells)
    return c instanceof Y.Map ? c : null
  }
  const settings = (): MandatSettings => readSettings(meta.get(MANDATS_META))
  const editable = (): boolean => ctx.canEdit()

  /** Creates the matrix's containers (the first editor to open the board does). */
  const ensure = (): void => {
    if (!editable() || (arr('rows') && arr('cols') && cells())) return
    doc.transact(() => {
      if (!arr('rows')) matrix.set(MATRIX.rows, new Y.Array())
      if (!arr('cols')) matrix.set(MATRIX.cols, new Y.Array())
      if (!cells()) matrix.set(MATRIX.cells, new Y.Map())
    }, LOCAL)
  }

  // ---- the page parts ----
  const matrixButton = h('button', { type: 'button', class: 'tool mandats-show-matrix', 'aria-pressed': 'true' })
  const boardButton = h('button', { type: 'button', class: 'tool mandats-show-board', 'aria-pressed': 'false' })
  host.toolbarExtras.append(matrixButton, boardButton)

  const heading = h('h2', { class: 'mandats-title', id: 'mandats-title' })
  const intro = h('p', { class: 'hint mandats-intro' })
  const addRowButton = h('button', { type: 'button', class: 'secondary mandats-add-row' })
  const addColButton = h('button', { type: 'button', class: 'secondary mandats-add-col' })
  const actions = h('div', { class: 'mandats-actions' }, addRowButton, addColButton)
  const summaryHead = h('p', { class: 'mandats-summary-head', role: 'status' })
  const summaryList = h('ul', { class: 'mandats-problems' })
  const rulesText = h('p', { class: 'mandats-rules hint' })
  const summary = h('div', { class: 'mandats-summary' }, summaryHead, summaryList, rulesText)
  const headRow = h('tr')
  const thead = h('thead', {}, headRow)
  const tbody = h('tbody')
  const footRow = h('tr', { class: 'mandats-foot' })
  const tfoot = h('tfoot', {}, footRow)
  const caption = h('caption', { class: 'visually-hidden' })
  const table = h('table', { class: 'mandats-table' }, caption, thead, tbody, tfoot)
  const empty = h('p', { class: 'mandats-empty hint' })
  const legend = h('dl', { class: 'mandats-legend' })
  const legendTitle = h('h3', { class: 'mandats-legend-title' })
  const settingsEl = h('details', { class: 'mandats-settings' })
  // Why the canvas tools are gone from the toolbar (its description in matrix view).
  const toolsNote = h('p', { class: 'visually-hidden', id: 'mandats-tools-note' })
  const section = h('section', { class: 'mandats-view', 'aria-labelledby': 'mandats-title' },
    toolsNote,
    h('div', { class: 'mandats-head' }, h('div', {}, heading, intro), actions),
    summary,
    h('div', { class: 'mandats-scroll' }, table),
    empty,
    h('div', { class: 'mandats-legend-box' }, legendTitle, legend),
    settingsEl)
  host.viewport.after(section)

  let showMatrix = true
  const applyMode = (): void => {
    host.layout.classList.toggle('mandats-on', showMatrix)
    section.hidden = !showMatrix
    matrixButton.setAttribute('aria-pressed', String(showMatrix))
    boardButton.setAttribute('aria-pressed', String(!showMatrix))
    // The canvas tools are hidden (styles.css): the toolbar and the way back to them say why.
    for (const el of [host.toolbar.el, boardButton]) {
      if (showMatrix) el.setAttribute('aria-describedby', toolsNote.id)
      else if (el.getAttribute('aria-describedby') === toolsNote.id) el.removeAttribute('aria-describedby')
    }
    // Nothing of the hidden canvas stays selected (the keys would move or delete it).
    if (showMatrix) ctx.selection.clear()
  }
  /** In matrix view, the canvas' shortcuts (from the page, the canvas being hidden) do nothing. */
  const handleKey = (e: KeyboardEvent): boolean => {
    if (!showMatrix) return false
    const mod = e.ctrlKey || e.metaKey
    const key = e.key.toLowerCase()
    if (!mod && e.key.length === 1 && e.key !== ' ') return true
    if (!mod && ['Delete', 'Backspace', 'Enter', 'F2'].includes(e.key)) return true
    if (e.key.startsWith('Arrow') && (e.altKey || ctx.selection.size > 0)) return true
    return mod && ['a', 'd', 'g', '[', ']', '{', '}'].includes(key)
  }
  // Paste and cut would add to or take from the hidden canvas (the clipboard's and the image
  // tools' listeners on the document): stopped before them, the browser's own behaviour kept.
  const onClipboard = (e: Event): void => {
    if (!showMatrix) return
    const active = document.activeElement
    if (active === null || active === document.body) e.stopImmediatePropagation()
  }
  for (const type of ['copy', 'cut', 'paste']) window.addEventListener(type, onClipboard, true)
  matrixButton.addEventListener('click', () => {
    showMatrix = true
    applyMode()
    heading.focus({ preventScroll: true })
  })
  boardButton.addEventListener('click', () => {
    if (!showMatrix) return
    showMatrix = false
    applyMode()
    // The canvas had no size while hidden: show the whole board.
    requestAnimationFrame(() => {
      ctx.canvas.fit(boardBounds(ctx.layers))
      host.viewport.focus({ preventScroll: true })
    })
  })
  heading.tabIndex = -1

  // ---- editing ----
  let focusAfter: { kind: 'row' | 'col', id: string } | null = null
  const addLine = (kind: 'row' | 'col'): void => {
    if (!editable()) return
    ensure()
    const a = arr(kind === 'row' ? 'rows' : 'cols')
    if (!a) return
    const id = crypto.randomUUID()
    const m = new Y.Map<unknown>()
    m.set('id', id)
    m.set('title', new Y.Text())
    ctx.undo.stopCapturing()
    doc.transact(() => a.push([m]), LOCAL)
    focusAfter = { kind, id }
    render()
  }
  addRowButton.addEventListener('click', () => addLine('row'))
  addColButton.addEventListener('click', () => addLine('col'))

  const move = (kind: 'row' | 'col', id: string, delta: number): void => {
    const a = arr(kind === 'row' ? 'rows' : 'cols')
    if (!a || !editable()) return
    const list = lines(a)
    const pos = list.findIndex((l) => l.id === id)
    const to = pos + delta
    if (pos < 0 || to < 0 || to >= list.length) return
    const from = list[pos]
    const target = list[to]
    const focused = document.activeElement
    ctx.undo.stopCapturing()
    // A move is a delete and the insertion of a copy, in one transaction.
    doc.transact(() => {
      const copy = new Y.Map<unknown>()
      copy.set('id', id)
      copy.set('title', new Y.Text(from.title.toString().slice(0, MAX_TITLE)))
      a.delete(from.index, 1)
      // Indexes are the array's own: after the deletion, the target's index puts the copy
      // after it when moving forward, before it when moving back.
      a.insert(Math.min(target.index, a.length), [copy])
    }, LOCAL)
    render()
    if (focused instanceof HTMLElement && !focused.isConnected) {
      // The button moved with its line: find it again (or its neighbour at the end).
      const v = kind === 'row' ? rowViews.get(id)?.header : colViews.get(id)
      const next = v ? (delta < 0 ? v.before : v.after) : null
      const fallback = v ? (delta < 0 ? v.after : v.before) : null
      ;(next && !next.disabled ? next : fallback)?.focus()
    }
    const titled = (kind === 'row' ? lines(arr('rows')) : lines(arr('cols'))).find((l) => l.id === id)
    if (titled) announce(t('mandats.moved', { title: titleOf(titled), n: to + 1 }))
  }

  const removeLine = (kind: 'row' | 'col', id: string): void => {
    const a = arr(kind === 'row' ? 'rows' : 'cols')
    if (!a || !editable()) return
    const list = lines(a)
    const line = list.find((l) => l.id === id)
    if (!line) return
    const title = titleOf(line)
    const pos = list.indexOf(line)
    ctx.undo.stopCapturing()
    doc.transact(() => {
      // Every copy of it (two concurrent moves may have made two), then its cells.
      for (let i = a.length - 1; i >= 0; i--) {
        const m = a.get(i)
        if (m instanceof Y.Map && m.get('id') === id) a.delete(i, 1)
      }
      const c = cells()
      if (c) {
        for (const key of [...c.keys()]) {
          const [r, col] = key.split(':')
          if ((kind === 'row' && r === id) || (kind === 'col' && col === id)) c.delete(key)
        }
      }
    }, LOCAL)
    render()
    announce(t('mandats.deleted', { title }))
    // Focus goes to the neighbour's title, or to the add button.
    const rest = kind === 'row' ? lines(arr('rows')) : lines(arr('cols'))
    const neighbour = rest[Math.min(pos, rest.length - 1)]
    const v = neighbour ? (kind === 'row' ? rowViews.get(neighbour.id)?.header : colViews.get(neighbour.id)) : null
    ;(v?.input ?? (kind === 'row' ? addRowButton : addColButton)).focus()
  }

  const setCell = (row: string, col: string, value: string): void => {
    if (!editable()) return
    ensure()
    const c = cells()
    if (!c) return
    ctx.undo.stopCapturing()
    doc.transact(() => {
      if (value === '') c.delete(cellKey(row, col))
      else c.set(cellKey(row, col), value)
    }, LOCAL)
  }

  // ---- headers ----
  const rowViews = new Map<string, RowView>()
  const colViews = new Map<string, HeaderView>()

  const makeHeader = (kind: 'row' | 'col', id: string): HeaderView => {
    const input = h('input', { type: 'text', class: 'mandats-name', maxlength: String(MAX_TITLE), autocomplete: 'off' })
    const before = h('button', { type: 'button', class: 'tool mandats-move mandats-before' }, icon(kind === 'row' ? 'up' : 'previous'))
    const after = h('button', { type: 'button', class: 'tool mandats-move mandats-after' }, icon(kind === 'row' ? 'down' : 'next'))
    const remove = h('button', { type: 'button', class: 'tool mandats-delete' }, icon('trash'))
    const confirmText = h('span', { class: 'mandats-confirm-text' })
    const confirmYes = h('button', { type: 'button', class: 'danger mandats-confirm-yes' })
    const confirmNo = h('button', { type: 'button', class: 'secondary mandats-confirm-no' })
    const confirm = h('div', { class: 'mandats-confirm', role: 'group' }, confirmText, confirmYes, confirmNo)
    confirm.hidden = true
    const tools = h('div', { class: 'mandats-line-tools' }, before, after, remove)
    const el = kind === 'row'
      ? h('th', { scope: 'row', class: 'mandats-row-head' }, input, tools, confirm)
      : h('th', { scope: 'col', class: 'mandats-col-head' }, input, tools, confirm)
    const v: HeaderView = { kind, id, el, input, text: null, unbind: () => {}, before, after, remove, confirm, confirmText, confirmYes, confirmNo }
    before.addEventListener('click', () => move(kind, id, -1))
    after.addEventListener('click', () => move(kind, id, 1))
    remove.addEventListener('click', () => {
      if (!editable()) return
      confirm.hidden = false
      tools.hidden = true
      confirmNo.focus()
    })
    const closeConfirm = (refocus: boolean): void => {
      confirm.hidden = true
      tools.hidden = false
      if (refocus) remove.focus()
    }
    confirmNo.addEventListener('click', () => closeConfirm(true))
    confirm.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return
      e.preventDefault()
      e.stopPropagation()
      closeConfirm(true)
    })
    confirmYes.addEventListener('click', () => {
      closeConfirm(false)
      removeLine(kind, id)
    })
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === 'Escape') {
        e.preventDefault()
        input.blur()
        input.focus()
      }
    })
    return v
  }

  const bindHeader = (v: HeaderView, line: Line): void => {
    if (v.text === line.title) return
    v.unbind()
    v.text = line.title
    // bindTextarea reads and writes only value and the selection, which inputs have too.
    v.unbind = bindTextarea(doc, line.title, v.input as unknown as HTMLTextAreaElement)
  }

  const destroyHeader = (v: HeaderView): void => { v.unbind() }

  // ---- rendering ----

  /** Puts `want` as the children of `parent` in order, moving only what is out of place. */
  const place = (parent: HTMLElement, want: HTMLElement[]): void => {
    const active = document.activeElement
    for (let i = 0; i < want.length; i++) {
      const at = parent.children[i]
      if (at !== want[i]) parent.insertBefore(want[i], at ?? null)
    }
    while (parent.children.length > want.length) parent.lastElementChild?.remove()
    if (active instanceof HTMLElement && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true })
  }

  let valuesKey = ''
  const fillOptions = (select: HTMLSelectElement, s: MandatSettings, current: string): void => {
    const opts = [h('option', { value: '' }, t('mandats.none'))]
    for (const v of s.values) opts.push(h('option', { value: v.id }, `${v.id} · ${v.label}`))
    if (current !== '' && !s.values.some((v) => v.id === current)) opts.push(h('option', { value: current }, t('mandats.unknownValue', { id: current })))
    select.replaceChildren(...opts)
    select.value = current
  }

  const render = (): void => {
    const s = settings()
    const rows = lines(arr('rows'))
    const cols = lines(arr('cols'))
    const c = cells()
    const can = editable()
    const nextValuesKey = JSON.stringify(s.values)
    const valuesChanged = nextValuesKey !== valuesKey
    valuesKey = nextValuesKey
    const checks = check(rows, cols, c, s)
    const showRowCheck = s.onePerRow !== null
    const showColCheck = s.everyColumn

    // Columns.
    const colIds = new Set(cols.map((l) => l.id))
    for (const [id, v] of colViews) if (!colIds.has(id)) { destroyHeader(v); colViews.delete(id) }
    cols.forEach((line, i) => {
      let v = colViews.get(line.id)
      if (!v) { v = makeHeader('col', line.id); colViews.set(line.id, v) }
      bindHeader(v, line)
      v.before.disabled = i === 0
      v.after.disabled = i === cols.length - 1
    })
    const corner = headRow.querySelector('.mandats-corner') as HTMLElement ?? h('td', { class: 'mandats-corner' })
    corner.textContent = t('mandats.corner')
    const rowCheckHead = headRow.querySelector('.mandats-check-head') as HTMLElement ?? h('th', { scope: 'col', class: 'mandats-check-head' })
    rowCheckHead.textContent = t('mandats.check')
    place(headRow, [corner, ...cols.map((l) => (colViews.get(l.id) as HeaderView).el), ...(showRowCheck ? [rowCheckHead] : [])])

    // Rows.
    const rowIds = new Set(rows.map((l) => l.id))
    for (const [id, v] of rowViews) if (!rowIds.has(id)) { destroyHeader(v.header); rowViews.delete(id) }
    rows.forEach((line, i) => {
      let rv = rowViews.get(line.id)
      if (!rv) {
        const header = makeHeader('row', line.id)
        rv = { header, tr: h('tr', {}, header.el), cells: new Map(), check: h('td', { class: 'mandats-check' }) }
        rowViews.set(line.id, rv)
      }
      const view = rv
      bindHeader(view.header, line)
      view.header.before.disabled = i === 0
      view.header.after.disabled = i === rows.length - 1
      for (const [colId] of view.cells) if (!colIds.has(colId)) view.cells.delete(colId)
      const tds: HTMLElement[] = [view.header.el]
      for (const col of cols) {
        let cell = view.cells.get(col.id)
        const current = String(c?.get(cellKey(line.id, col.id)) ?? '')
        if (!cell) {
          const select = h('select', { class: 'mandats-cell-select' })
          const colId = col.id
          select.addEventListener('change', () => setCell(line.id, colId, select.value))
          cell = { td: h('td', { class: 'mandats-cell' }, select), select, optionsFor: '' }
          view.cells.set(col.id, cell)
        }
        const known = s.values.some((v) => v.id === current) || current === ''
        const optionsFor = known ? valuesKey : `${valuesKey}+${current}`
        if (valuesChanged || cell.optionsFor !== optionsFor) {
          fillOptions(cell.select, s, current)
          cell.optionsFor = optionsFor
        } else if (cell.select.value !== current) {
          cell.select.value = current
        }
        cell.td.dataset.value = current
        cell.select.disabled = !can
        tds.push(cell.td)
      }
      if (showRowCheck) {
        const r = checks.rows.get(line.id)
        renderCheck(view.check, r?.ok ?? true, rowDetail(r?.count ?? 0, s.onePerRow ?? ''))
        tds.push(view.check)
      }
      place(view.tr, tds)
    })
    place(tbody, rows.map((l) => (rowViews.get(l.id) as RowView).tr))

    // The columns' checks.
    if (showColCheck && cols.length > 0) {
      const label = footRow.querySelector('.mandats-foot-head') as HTMLElement ?? h('th', { scope: 'row', class: 'mandats-foot-head' })
      label.textContent = t('mandats.check')
      const tds: HTMLElement[] = [label]
      const old = new Map<string, HTMLElement>()
      for (const el of footRow.querySelectorAll<HTMLElement>('td[data-col]')) old.set(el.dataset.col ?? '', el)
      for (const col of cols) {
        const td = old.get(col.id) ?? h('td', { class: 'mandats-check', 'data-col': col.id })
        const ok = checks.cols.get(col.id) ?? true
        renderCheck(td, ok, ok ? t('mandats.colOk') : t('mandats.colEmpty'))
        tds.push(td)
      }
      if (showRowCheck) tds.push(footRow.querySelector('.mandats-foot-end') as HTMLElement ?? h('td', { class: 'mandats-foot-end' }))
      place(footRow, tds)
      tfoot.hidden = false
    } else {
      tfoot.hidden = true
    }

    relabelLines(rows, cols, can)
    table.hidden = rows.length === 0 && cols.length === 0
    empty.hidden = !table.hidden
    empty.textContent = t('mandats.empty')

    // The summary.
    if (!showRowCheck && !showColCheck) {
      summaryHead.replaceChildren(t('mandats.noRules'))
      summary.dataset.state = 'none'
    } else if (checks.problems.length === 0) {
      summaryHead.replaceChildren(h('span', { class: 'mandats-mark', 'aria-hidden': 'true' }, '✓'), ' ', t('mandats.allOk'))
      summary.dataset.state = 'ok'
    } else {
      const n = checks.problems.length
      summaryHead.replaceChildren(h('span', { class: 'mandats-mark', 'aria-hidden': 'true' }, '⚠'), ' ', n === 1 ? t('mandats.problems1') : t('mandats.problemsN', { n }))
      summary.dataset.state = 'problems'
    }
    summaryList.replaceChildren(...checks.problems.map((p) => h('li', {}, p)))
    summaryList.hidden = checks.problems.length === 0
    const rules: string[] = []
    if (s.onePerRow !== null) rules.push(t('mandats.ruleOne', { code: s.onePerRow }))
    if (s.everyColumn) rules.push(t('mandats.ruleCols'))
    rulesText.textContent = rules.length ? `${t('mandats.rulesSummary')} : ${rules.join(' · ')}` : ''
    rulesText.hidden = rules.length === 0

    legend.replaceChildren(...s.values.flatMap((v) => [h('dt', {}, v.id), h('dd', {}, v.label)]))
    addRowButton.hidden = !can
    addColButton.hidden = !can
    renderSettings(s)

    if (focusAfter) {
      const f = focusAfter
      focusAfter = null
      const v = f.kind === 'row' ? rowViews.get(f.id)?.header : colViews.get(f.id)
      v?.input.focus()
    }
  }

  /** Names of the rows' and columns' controls (they follow the titles as people type). */
  const relabelLines = (rows: Line[], cols: Line[], can: boolean): void => {
    const colTitles = new Map(cols.map((l) => [l.id, titleOf(l)]))
    const label = (v: HeaderView, title: string, n: number): void => {
      v.input.setAttribute('aria-label', t(v.kind === 'row' ? 'mandats.rowTitle' : 'mandats.colTitle', { n }))
      v.input.placeholder = t(v.kind === 'row' ? 'mandats.rowPlaceholder' : 'mandats.colPlaceholder')
      v.input.readOnly = !can
      v.before.setAttribute('aria-label', t(v.kind === 'row' ? 'mandats.moveUp' : 'mandats.moveLeft', { title }))
      v.after.setAttribute('aria-label', t(v.kind === 'row' ? 'mandats.moveDown' : 'mandats.moveRight', { title }))
      v.remove.setAttribute('aria-label', t('mandats.delete', { title }))
      for (const b of [v.before, v.after, v.remove]) b.title = b.getAttribute('aria-label') ?? ''
      v.confirmText.textContent = t(v.kind === 'row' ? 'mandats.confirmRow' : 'mandats.confirmCol', { title })
      v.confirmYes.textContent = t('mandats.confirmYes')
      v.confirmNo.textContent = t('mandats.confirmNo')
      const tools = v.el.querySelector('.mandats-line-tools') as HTMLElement
      tools.classList.toggle('read-only', !can)
      if (!can) v.confirm.hidden = true
    }
    cols.forEach((l, i) => { const v = colViews.get(l.id); if (v) label(v, titleOf(l), i + 1) })
    rows.forEach((l, i) => {
      const rv = rowViews.get(l.id)
      if (!rv) return
      const title = titleOf(l)
      label(rv.header, title, i + 1)
      for (const [colId, cell] of rv.cells) cell.select.setAttribute('aria-label', t('mandats.cell', { row: title, col: colTitles.get(colId) ?? '' }))
    })
  }

  // Left and right arrows on a cell go to the neighbouring cell of the row (up and down keep
  // choosing the value, as in any list); Home and End go to the row's first and last cell.
  table.addEventListener('keydown', (e) => {
    const target = e.target
    if (!(target instanceof HTMLSelectElement) || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return
    const tr = target.closest('tr')
    if (!tr) return
    const selects = [...tr.querySelectorAll<HTMLSelectElement>('select.mandats-cell-select')]
    const i = selects.indexOf(target)
    let next: HTMLElement | undefined
    if (e.key === 'ArrowLeft') next = i > 0 ? selects[i - 1] : tr.querySelector<HTMLInputElement>('.mandats-name') ?? undefined
    else if (e.key === 'ArrowRight') next = selects[i + 1]
    else if (e.key === 'Home') next = selects[0]
    else if (e.key === 'End') next = selects[selects.length - 1]
    else return
    e.preventDefault()
    next?.focus()
  })

  // ---- facilitators' settings ----
  const settingsSummary = h('summary', {})
  const settingsBody = h('div', { class: 'mandats-settings-body' })
  settingsEl.append(settingsSummary, settingsBody)
  let settingsKey = ''
  const writeSettings = (next: MandatSettings): void => {
    if (!ctx.facilitator() || !editable()) return
    // Keys this client does not know are kept.
    const raw = meta.get(MANDATS_META)
    const kept = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw as Record<string, unknown> : {}
    doc.transact(() => meta.set(MANDATS_META, { ...kept, values: next.values.map((v) => ({ id: v.id, label: v.label })), onePerRow: next.onePerRow, everyColumn: next.everyColumn }), LOCAL)
  }
  const renderSettings = (s: MandatSettings): void => {
    const show = ctx.facilitator() && editable()
    settingsEl.hidden = !show
    settingsSummary.textContent = t('mandats.settings')
    if (!show) return
    const key = JSON.stringify(s) + String(document.documentElement.lang)
    if (key === settingsKey) return
    settingsKey = key
    const focusedKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey
    const list = h('ul', { class: 'mandats-values' })
    for (const v of s.values) {
      const input = h('input', { type: 'text', value: v.label, maxlength: '80', 'aria-label': t('mandats.valueLabel', { code: v.id }), 'data-focus-key': `label-${v.id}` })
      input.addEventListener('change', () => {
        const label = input.value.trim()
        if (label === '') { input.value = v.label; return }
        const cur = settings()
        writeSettings({ ...cur, values: cur.values.map((x) => x.id === v.id ? { ...x, label } : x) })
      })
      const remove = h('button', { type: 'button', class: 'tool', 'aria-label': t('mandats.removeValue', { code: v.id }), title: t('mandats.removeValue', { code: v.id }), 'data-focus-key': `remove-${v.id}` }, icon('trash'))
      remove.disabled = s.values.length <= 1
      remove.addEventListener('click', () => {
        const cur = settings()
        const values = cur.values.filter((x) => x.id !== v.id)
        if (values.length === 0) return
        writeSettings({ ...cur, values, onePerRow: cur.onePerRow === v.id ? null : cur.onePerRow })
      })
      list.append(h('li', {}, h('span', { class: 'mandats-code' }, v.id), input, remove))
    }
    const code = h('input', { type: 'text', maxlength: '3', class: 'mandats-new-code', id: 'mandats-new-code', autocomplete: 'off', 'data-focus-key': 'new-code' })
    const label = h('input', { type: 'text', maxlength: '80', class: 'mandats-new-label', id: 'mandats-new-label', autocomplete: 'off', 'data-focus-key': 'new-label' })
    const error = h('p', { class: 'error', role: 'alert' })
    const add = h('button', { type: 'submit', class: 'secondary', 'data-focus-key': 'add-value' }, icon('plus'), t('mandats.addValue'))
    const form = h('form', { class: 'mandats-add-value' },
      h('label', { for: 'mandats-new-code' }, t('mandats.newCode')), code,
      h('label', { for: 'mandats-new-label' }, t('mandats.newLabel')), label, add, error)
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      const cur = settings()
      const id = code.value.trim()
      const text = label.value.trim()
      if (id.length < 1 || id.length > 3 || id.includes(':') || cur.values.some((v) => v.id === id) || cur.values.length >= MAX_VALUES) {
        error.textContent = t('mandats.badCode')
        code.focus()
        return
      }
      if (text === '') {
        error.textContent = t('mandats.badLabel')
        label.focus()
        return
      }
      writeSettings({ ...cur, values: [...cur.values, { id, label: text }] })
      requestAnimationFrame(() => (settingsBody.querySelector('[data-focus-key="new-code"]') as HTMLElement | null)?.focus())
    })
    const one = h('select', { id: 'mandats-one-per-row', 'data-focus-key': 'one' })
    one.append(h('option', { value: '' }, t('mandats.onePerRowNone')), ...s.values.map((v) => h('option', { value: v.id }, `${v.id} · ${v.label}`)))
    one.value = s.onePerRow ?? ''
    one.addEventListener('change', () => writeSettings({ ...settings(), onePerRow: one.value === '' ? null : one.value }))
    const every = h('input', { type: 'checkbox', id: 'mandats-every-column', 'data-focus-key': 'every' })
    every.checked = s.everyColumn
    every.addEventListener('change', () => writeSettings({ ...settings(), everyColumn: every.checked }))
    const reset = h('button', { type: 'button', class: 'secondary', 'data-focus-key': 'reset' }, t('mandats.resetValues'))
    reset.addEventListener('click', () => {
      const cur = settings()
      writeSettings({ ...cur, values: defaultValues(), onePerRow: cur.onePerRow !== null && (DEFAULT_IDS as readonly string[]).includes(cur.onePerRow) ? cur.onePerRow : 'A' })
    })
    settingsBody.replaceChildren(
      h('fieldset', {}, h('legend', {}, t('mandats.values')), list, form, reset),
      h('fieldset', {}, h('legend', {}, t('mandats.rulesSummary')),
        h('div', { class: 'mandats-rule' }, h('label', { for: 'mandats-one-per-row' }, t('mandats.onePerRow')), one),
        h('label', { class: 'checkbox', for: 'mandats-every-column' }, every, t('mandats.everyColumn'))))
    if (focusedKey) (settingsBody.querySelector(`[data-focus-key="${focusedKey}"]`) as HTMLElement | null)?.focus()
  }

  // ---- labels, wiring ----
  const relabel = (): void => {
    matrixButton.replaceChildren(icon('grid'), h('span', { class: 'tool-label' }, t('mandats.showMatrix')))
    boardButton.replaceChildren(icon('note'), h('span', { class: 'tool-label' }, t('mandats.showBoard')))
    matrixButton.title = t('mandats.showMatrix')
    boardButton.title = t('mandats.showBoard')
    heading.textContent = t('mandats.title')
    toolsNote.textContent = t('mandats.toolsHidden')
    intro.textContent = t('mandats.intro')
    caption.textContent = t('mandats.region')
    addRowButton.replaceChildren(icon('plus'), h('span', {}, t('mandats.addRow')))
    addColButton.replaceChildren(icon('plus'), h('span', {}, t('mandats.addCol')))
    legendTitle.textContent = t('mandats.legend')
    valuesKey = ''
    settingsKey = ''
    render()
  }

  let scheduled = 0
  const schedule = (): void => {
    if (scheduled) return
    scheduled = requestAnimationFrame(() => { scheduled = 0; render() })
  }
  const onMatrix = (events: Array<Y.YEvent<any>>): void => {
    // Typing in a title changes only its Y.Text (bound to its input): relabel, no restructure.
    schedule()
    void events
  }
  matrix.observeDeep(onMatrix)
  const onMeta = (e: Y.YMapEvent<unknown>): void => { if (e.keysChanged.has(MANDATS_META)) schedule() }
  meta.observe(onMeta)
  const offSync = ctx.sync.on(() => {
    if (ctx.sync.synced) ensure()
    schedule()
  })
  const offLang = onLanguageChange(() => { valuesKey = ''; settingsKey = '' })

  applyMode()
  relabel()

  return {
    relabel,
    handleKey,
    destroy: () => {
      for (const type of ['copy', 'cut', 'paste']) window.removeEventListener(type, onClipboard, true)
      for (const el of [host.toolbar.el, boardButton]) if (el.getAttribute('aria-describedby') === toolsNote.id) el.removeAttribute('aria-describedby')
      matrix.unobserveDeep(onMatrix)
      meta.unobserve(onMeta)
      offSync()
      offLang()
      cancelAnimationFrame(scheduled)
      for (const v of colViews.values()) destroyHeader(v)
      for (const v of rowViews.values()) destroyHeader(v.header)
      host.layout.classList.remove('mandats-on')
      section.remove()
      matrixButton.remove()
      boardButton.remove()
    }
  }
}

function renderCheck (el: HTMLElement, ok: boolean, text: string): void {
  el.dataset.state = ok ? 'ok' : 'problem'
  el.replaceChildren(h('span', { class: 'mandats-mark', 'aria-hidden': 'true' }, ok ? '✓' : '⚠'), ' ', text)
}
