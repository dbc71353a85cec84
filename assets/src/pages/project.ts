// One project: its boards (open, create, rename, archive), its members, and invitations of
// guests to a board for facilitators (link, copy button, QR code for people in the room).

import { api, BOARD_KINDS, facilitates, type Board, type BoardKind, type Member, type Project } from '../api'
import { announce, clear, h } from '../dom'
import { kindLabel, roleLabel, t } from '../i18n'
import { qrSvg } from '../qr'
import { paths } from '../router'
import type { Session } from '../session'
import { formatDate } from '../shell'
import { errorText } from './common'

/** Invitation lifetimes offered, in seconds. */
const EXPIRIES: Array<[number, 'invite.expiry.hours' | 'invite.expiry.day' | 'invite.expiry.days']> = [
  [3 * 3600, 'invite.expiry.hours'],
  [24 * 3600, 'invite.expiry.day'],
  [7 * 24 * 3600, 'invite.expiry.days'],
  [30 * 24 * 3600, 'invite.expiry.days']
]

export function renderProjectPage (main: HTMLElement, projectId: string, _session: Session & { kind: 'user' }): () => void {
  let alive = true
  const status = h('p', { class: 'hint', role: 'status' }, t('common.loading'))
  main.append(status)

  Promise.all([api.project(projectId), api.boards(projectId), api.members(projectId)])
    .then(([project, boards, members]) => {
      if (!alive) return
      status.remove()
      render(main, project, boards, members)
    })
    .catch((err) => { if (alive) status.textContent = errorText(err) })
  return () => { alive = false }
}

function render (main: HTMLElement, project: Project, initialBoards: Board[], members: Member[]): void {
  document.title = `${project.name} · ${t('app.name')}`
  const canFacilitate = facilitates(project.role)
  let boards = initialBoards
  const list = h('ul', { class: 'board-list', 'aria-labelledby': 'boards-heading' })
  const showArchived = h('input', { type: 'checkbox', id: 'show-archived' })

  const redraw = (): void => {
    clear(list)
    const shown = boards.filter((b) => showArchived.checked || b.archived_at === null)
    if (shown.length === 0) list.append(h('li', { class: 'hint' }, t('boards.none')))
    for (const board of shown) list.append(boardRow(board))
  }
  showArchived.addEventListener('change', redraw)

  const replace = (updated: Board): void => {
    boards = boards.map((b) => (b.id === updated.id ? updated : b))
    redraw()
  }

  const boardRow = (board: Board): HTMLLIElement => {
    const archived = board.archived_at !== null
    const titleId = `board-${board.id}`
    const row = h('li', { class: 'board-row', 'aria-labelledby': titleId },
      h('div', { class: 'board-row-main' },
        h('a', { href: paths.board(board.id), id: titleId, class: 'card-title' }, board.title),
        h('span', { class: 'badge' }, kindLabel(board.kind)),
        archived ? h('span', { class: 'badge muted' }, t('boards.archived')) : null))
    if (canFacilitate) {
      const actions = h('div', { class: 'row-actions' })
      const rename = h('button', { type: 'button', class: 'secondary', 'aria-label': t('boards.renameLabel', { title: board.title }) }, t('boards.rename'))
      rename.addEventListener('click', () => {
        const input = h('input', { value: board.title, maxlength: 200, required: true, 'aria-label': t('boards.newTitle') })
        const error = h('span', { class: 'error', role: 'alert' })
        const form = h('form', { class: 'rename-form' }, input,
          h('button', { type: 'submit' }, t('common.save')),
          h('button', { type: 'button', class: 'secondary', onclick: () => redraw() }, t('common.cancel')), error)
        form.addEventListener('submit', async (e) => {
          e.preventDefault()
          try {
            replace(await api.updateBoard(board.id, { title: input.value.trim() }))
            announce(t('boards.renamed'))
          } catch (err) { error.textContent = errorText(err) }
        })
        actions.replaceWith(form)
        input.select()
      })
      const archive = h('button', { type: 'button', class: 'secondary' }, archived ? t('boards.restore') : t('boards.archive'))
      archive.setAttribute('aria-label', t(archived ? 'boards.restoreLabel' : 'boards.archiveLabel', { title: board.title }))
      archive.addEventListener('click', async () => {
        try {
          replace(await api.updateBoard(board.id, { archived: !archived }))
          announce(archived ? t('boards.restored') : t('boards.archivedDone'))
        } catch (err) { announce(errorText(err)) }
      })
      const invite = h('button', { type: 'button', 'aria-label': t('invite.openLabel', { title: board.title }) }, t('invite.open'))
      invite.disabled = archived
      invite.addEventListener('click', () => openInviteDialog(board))
      actions.append(invite, rename, archive)
      row.append(actions)
    }
    return row
  }

  main.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '/' }, t('projects.title')), ' / '),
    h('h1', {}, project.name),
    h('p', { class: 'hint' }, t('project.yourRole', { role: roleLabel(project.role) })),
    h('section', { 'aria-labelledby': 'boards-heading' },
      h('div', { class: 'section-head' },
        h('h2', { id: 'boards-heading' }, t('boards.title')),
        h('label', { class: 'checkbox' }, showArchived, t('boards.showArchived'))),
      list,
      canFacilitate ? createBoardForm(project, (board) => { boards = [...boards, board]; redraw(); announce(t('boards.created')) }) : null),
    membersSection(members))
  redraw()
}

function createBoardForm (project: Project, created: (b: Board) => void): HTMLFormElement {
  const title = h('input', { id: 'board-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off' })
  const kind = h('select', { id: 'board-kind', name: 'kind' })
  for (const k of BOARD_KINDS) kind.append(h('option', { value: k }, kindLabel(k)))
  const error = h('p', { class: 'error', role: 'alert' })
  const form = h('form', { class: 'inline-form', 'aria-labelledby': 'new-board-heading' },
    h('h3', { id: 'new-board-heading' }, t('boards.create')),
    h('div', { class: 'field' }, h('label', { for: 'board-title' }, t('boards.boardTitle')), title),
    h('div', { class: 'field' }, h('label', { for: 'board-kind' }, t('boards.kind')), kind),
    h('button', { type: 'submit' }, t('boards.createButton')),
    error)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    try {
      created(await api.createBoard(project.id, title.value.trim(), kind.value as BoardKind))
      title.value = ''
    } catch (err) { error.textContent = errorText(err) }
  })
  return form
}

function membersSection (members: Member[]): HTMLElement {
  const table = h('table', { class: 'members' },
    h('caption', { class: 'visually-hidden' }, t('members.title')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('members.name')),
      h('th', { scope: 'col' }, t('members.email')),
      h('th', { scope: 'col' }, t('members.role')))))
  const body = h('tbody')
  for (const m of members) {
    body.append(h('tr', {}, h('td', {}, m.display_name), h('td', {}, m.email), h('td', {}, roleLabel(m.role))))
  }
  table.append(body)
  return h('section', { 'aria-labelledby': 'members-heading' },
    h('h2', { id: 'members-heading' }, t('members.title')),
    members.length ? table : h('p', { class: 'hint' }, t('members.none')))
}

function openInviteDialog (board: Board): void {
  const role = h('select', { id: 'invite-role' },
    h('option', { value: 'editor' }, t('invite.role.editor')),
    h('option', { value: 'viewer' }, t('invite.role.viewer')))
  const expiry = h('select', { id: 'invite-expiry' })
  for (const [secs, key] of EXPIRIES) {
    const n = secs >= 24 * 3600 ? secs / (24 * 3600) : secs / 3600
    expiry.append(h('option', { value: secs }, t(key, { n })))
  }
  expiry.value = String(24 * 3600)
  const error = h('p', { class: 'error', role: 'alert' })
  const result = h('div', { class: 'invite-result', 'aria-live': 'polite' })
  const create = h('button', { type: 'submit' }, t('invite.create'))
  const close = h('button', { type: 'button', class: 'secondary' }, t('common.close'))
  const form = h('form', { method: 'dialog', class: 'invite-form' },
    h('div', { class: 'field' }, h('label', { for: 'invite-role' }, t('invite.role')), role),
    h('div', { class: 'field' }, h('label', { for: 'invite-expiry' }, t('invite.expiry')), expiry),
    error,
    h('div', { class: 'dialog-actions' }, create, close))
  const dialog = h('dialog', { class: 'invite-dialog', 'aria-labelledby': 'invite-heading' },
    h('h2', { id: 'invite-heading' }, t('invite.title', { title: board.title })),
    h('p', { class: 'hint' }, t('invite.intro')),
    form, result)
  close.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => dialog.remove())
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    create.disabled = true
    try {
      const created = await api.createInvite(board.id, role.value as 'editor' | 'viewer', Number(expiry.value))
      clear(result)
      const link = h('input', { id: 'invite-link', readonly: true, value: created.url, 'aria-label': t('invite.link') })
      const copied = h('span', { class: 'hint', role: 'status' })
      const copy = h('button', { type: 'button' }, t('invite.copy'))
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(created.url)
        } catch {
          link.select()
          document.execCommand('copy')
        }
        copied.textContent = t('invite.copied')
      })
      result.append(
        h('h3', {}, t('invite.ready')),
        h('div', { class: 'copy-row' }, link, copy), copied,
        h('p', { class: 'hint' }, t('invite.expires', { role: t(created.invite.role === 'editor' ? 'invite.role.editor' : 'invite.role.viewer'), date: formatDate(created.invite.expires_at) })),
        h('figure', { class: 'qr-figure' }, qrSvg(created.url, t('invite.qrLabel')), h('figcaption', {}, t('invite.qrCaption'))))
      link.focus()
      link.select()
    } catch (err) {
      error.textContent = errorText(err)
    } finally {
      create.disabled = false
    }
  })
  document.body.append(dialog)
  dialog.showModal()
}
