// Tenant templates ("one format, many sessions"): the organisation's templates (/templates), the
// boards made from one side by side with what each session produced (/templates/{id}: an
// accessible table), and the facilitator's "Enregistrer comme modèle" on a board (a dialog
// asking a name). The server decides what a template keeps (server/src/api/templates.rs).

import { api, type Board, type Template, type TemplateBoard } from '../api'
import { icon } from '../board/icons'
import { announce, clear, h } from '../dom'
import { kindLabel, t } from '../i18n'
import { paths } from '../router'
import type { Session } from '../session'
import { formatDate } from '../shell'
import { errorText } from './common'

type UserSession = Session & { kind: 'user' }

/** The organisation's templates. */
export function renderTemplatesPage (main: HTMLElement, session: UserSession): () => void {
  document.title = `${t('templates.title')} · ${t('app.name')}`
  let alive = true
  const list = h('ul', { class: 'cards template-list', 'aria-labelledby': 'templates-heading', 'aria-busy': 'true' })
  const status = h('p', { class: 'hint', role: 'status' }, t('common.loading'))
  main.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: paths.home() }, t('projects.title')), ' / '),
    h('h1', { id: 'templates-heading' }, t('templates.title')),
    h('p', { class: 'hint' }, t('templates.intro')),
    status, list)
  const show = (templates: Template[]): void => {
    clear(list)
    list.setAttribute('aria-busy', 'false')
    status.textContent = templates.length ? '' : t('templates.none')
    for (const tpl of templates) list.append(templateCard(tpl, session, () => { void load() }))
  }
  const load = async (): Promise<void> => {
    try {
      const templates = await api.templates()
      if (alive) show(templates)
    } catch (err) {
      if (!alive) return
      status.textContent = errorText(err)
      list.setAttribute('aria-busy', 'false')
    }
  }
  void load()
  return () => { alive = false }
}

function templateCard (tpl: Template, session: UserSession, changed: () => void): HTMLLIElement {
  const titleId = `template-${tpl.id}`
  const card = h('li', { class: 'card template-card', 'aria-labelledby': titleId },
    h('a', { href: paths.template(tpl.id), id: titleId, class: 'card-title' }, tpl.name),
    h('span', { class: 'badge' }, kindLabel(tpl.kind)),
    h('span', { class: 'hint' }, t('templates.boardsCount', { n: tpl.boards })),
    h('span', { class: 'hint' }, t('templates.savedOn', { date: formatDate(tpl.created_at) })))
  const mine = tpl.created_by === `user:${session.user.id}`
  if (mine || session.user.tenant_role === 'admin') {
    const remove = h('button', { type: 'button', class: 'secondary', 'aria-label': t('templates.deleteLabel', { name: tpl.name }) }, t('templates.delete'))
    remove.addEventListener('click', async () => {
      if (!confirm(t('templates.deleteConfirm', { name: tpl.name }))) return
      try {
        await api.deleteTemplate(tpl.id)
        announce(t('templates.deleted'))
        changed()
      } catch (err) { announce(errorText(err)) }
    })
    card.append(h('div', { class: 'row-actions' }, remove))
  }
  return card
}

/** One template: the boards made from it, side by side. */
export function renderTemplatePage (main: HTMLElement, templateId: string): () => void {
  let alive = true
  const status = h('p', { class: 'hint', role: 'status' }, t('common.loading'))
  main.append(
    h('p', { class: 'breadcrumb' },
      h('a', { href: paths.home() }, t('projects.title')), ' / ',
      h('a', { href: paths.templates() }, t('templates.title')), ' / '),
    status)
  Promise.all([api.template(templateId), api.templateBoards(templateId)])
    .then(([tpl, boards]) => {
      if (!alive) return
      status.remove()
      document.title = `${tpl.name} · ${t('app.name')}`
      main.append(
        h('h1', {}, tpl.name),
        h('p', { class: 'hint' }, kindLabel(tpl.kind), ' · ', t('templates.savedOn', { date: formatDate(tpl.created_at) })),
        comparison(tpl, boards))
    })
    .catch((err) => { if (alive) status.textContent = errorText(err) })
  return () => { alive = false }
}

const COUNTS = ['notes', 'votes', 'signals', 'participants'] as const

function comparison (tpl: Template, boards: TemplateBoard[]): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'template-boards-heading', class: 'template-boards' },
    h('h2', { id: 'template-boards-heading' }, t('templates.boardsOf', { name: tpl.name })))
  if (boards.length === 0) {
    section.append(h('p', { class: 'hint' }, t('templates.noBoards')))
    return section
  }
  const head = h('tr', {},
    h('th', { scope: 'col' }, t('templates.col.board')),
    h('th', { scope: 'col' }, t('templates.col.date')),
    ...COUNTS.map((c) => h('th', { scope: 'col', class: 'num' }, t(`templates.col.${c}`))))
  const body = h('tbody')
  for (const b of boards) {
    body.append(h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: paths.board(b.id) }, b.title)),
      h('td', {}, formatDate(b.created_at)),
      ...COUNTS.map((c) => h('td', { class: 'num' }, String(b.counts[c])))))
  }
  const total = (c: typeof COUNTS[number]): number => boards.reduce((sum, b) => sum + b.counts[c], 0)
  const foot = h('tfoot', {}, h('tr', {},
    h('th', { scope: 'row' }, t('templates.total')),
    h('td', {}),
    ...COUNTS.map((c) => h('td', { class: 'num' }, String(total(c))))))
  section.append(h('div', { class: 'table-scroll' },
    h('table', { class: 'template-comparison' },
      h('caption', {}, t('templates.comparison', { n: boards.length })),
      h('thead', {}, head), body, foot)))
  return section
}

/** The facilitator's "Enregistrer comme modèle" button of a board (facilitation tools). */
export function saveTemplateButton (board: Board): { el: HTMLButtonElement, relabel: () => void } {
  const el = h('button', { type: 'button', class: 'tool', 'data-action': 'save-template' })
  const relabel = (): void => {
    el.replaceChildren(icon('duplicate'), h('span', { class: 'tool-label' }, t('templates.save')))
    el.title = t('templates.save')
  }
  relabel()
  el.addEventListener('click', () => openSaveDialog(board, el))
  return { el, relabel }
}

function openSaveDialog (board: Board, opener: HTMLElement): void {
  const name = h('input', { id: 'template-name', required: true, maxlength: 200, autocomplete: 'off', value: board.title })
  const all = h('input', { type: 'checkbox', id: 'template-all' })
  const error = h('p', { class: 'error', role: 'alert' })
  const done = h('p', { class: 'hint', role: 'status' })
  const save = h('button', { type: 'submit' }, t('common.save'))
  const close = h('button', { type: 'button', class: 'secondary' }, t('common.close'))
  const form = h('form', { method: 'dialog', class: 'template-form' },
    h('div', { class: 'field' }, h('label', { for: 'template-name' }, t('templates.name')), name),
    h('label', { class: 'checkbox' }, all, t('templates.keepAll')),
    error, done,
    h('div', { class: 'dialog-actions' }, save, close))
  const dialog = h('dialog', { class: 'template-dialog', 'aria-labelledby': 'template-dialog-heading' },
    h('h2', { id: 'template-dialog-heading' }, t('templates.saveTitle', { title: board.title })),
    h('p', { class: 'hint' }, t('templates.saveIntro')),
    form)
  close.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => { dialog.remove(); opener.focus({ preventScroll: true }) })
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    done.textContent = ''
    const value = name.value.trim()
    if (!value) { error.textContent = t('templates.nameNeeded'); name.focus(); return }
    save.disabled = true
    try {
      const made = await api.saveTemplate(board.id, value, all.checked ? 'all' : 'prompts')
      clear(done)
      done.append(t('templates.saved', { name: made.name }), ' ',
        h('a', { href: paths.template(made.id), target: '_blank', rel: 'noopener' }, t('templates.openList')))
      announce(t('templates.saved', { name: made.name }))
      close.focus()
    } catch (err) {
      error.textContent = errorText(err)
    } finally {
      save.disabled = false
    }
  })
  document.body.append(dialog)
  dialog.showModal()
  name.select()
}

/** The "À partir d'un modèle" select of the project page's board form: the organisation's
 * templates (and "none"); choosing one leaves the kind to the template. */
export function templateSelect (kind: HTMLSelectElement): { field: HTMLElement, value: () => string | null } {
  const select = h('select', { id: 'board-template', name: 'template' },
    h('option', { value: '' }, t('templates.blank')))
  const hint = h('p', { class: 'hint', id: 'board-template-hint' })
  const field = h('div', { class: 'field' },
    h('label', { for: 'board-template' }, t('templates.fromTemplate')), select, hint)
  field.hidden = true
  select.addEventListener('change', () => {
    const chosen = select.value !== ''
    kind.disabled = chosen
    hint.textContent = chosen ? t('templates.kindFromTemplate') : ''
    if (chosen) {
      const k = select.selectedOptions[0]?.dataset.kind
      if (k) kind.value = k
    }
  })
  api.templates().then((templates) => {
    for (const tpl of templates) {
      select.append(h('option', { value: tpl.id, 'data-kind': tpl.kind }, `${tpl.name} (${kindLabel(tpl.kind)})`))
    }
    field.hidden = templates.length === 0
  }).catch(() => { /* no templates offered; an empty board can still be made */ })
  return { field, value: () => select.value || null }
}
