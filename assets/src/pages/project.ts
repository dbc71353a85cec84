// One project: its boards (open, create, rename, archive), its members, and for facilitators
// the invitations of guests to a board (link, copy button, QR code for people in the room) and
// the invitations still running (copy, QR code, revoke). Owners (and the organisation's admins)
// manage the members: change a role, remove someone, add an account of the organisation.
// Without the server, the boards of this project that this device keeps are listed.

import {
  api, ApiError, BOARD_KINDS, facilitates, type Board, type BoardKind, type Invite, type Member, type Project,
  type ProjectRole
} from '../api'
import { boardRecords, forgetInvite, inviteLink, rememberInvite } from '../device'
import { announce, clear, h } from '../dom'
import { kindLabel, roleLabel, t } from '../i18n'
import { qrSvg } from '../qr'
import { paths } from '../router'
import type { Session } from '../session'
import { formatDate } from '../shell'
import { errorText } from './common'
import { templateSelect } from './templates'

/** Invitation lifetimes offered, in seconds. */
const EXPIRIES: Array<[number, 'invite.expiry.hours' | 'invite.expiry.day' | 'invite.expiry.days']> = [
  [3 * 3600, 'invite.expiry.hours'],
  [24 * 3600, 'invite.expiry.day'],
  [7 * 24 * 3600, 'invite.expiry.days'],
  [30 * 24 * 3600, 'invite.expiry.days']
]

const ROLES: ProjectRole[] = ['owner', 'facilitator', 'editor', 'viewer']

type UserSession = Session & { kind: 'user' }

export function renderProjectPage (main: HTMLElement, projectId: string, session: UserSession): () => void {
  let alive = true
  const status = h('p', { class: 'hint', role: 'status' }, t('common.loading'))
  main.append(status)

  Promise.all([api.project(projectId), api.boards(projectId), api.members(projectId)])
    .then(([project, boards, members]) => {
      if (!alive) return
      status.remove()
      render(main, project, boards, members, session)
    })
    .catch((err) => {
      if (!alive) return
      status.textContent = errorText(err)
      if (err instanceof ApiError && err.status === 0) main.append(offlineBoards(session, projectId))
    })
  return () => { alive = false }
}

/** Without the server: the boards of this project that this device can open. */
export function offlineBoards (session: UserSession, projectId: string | null): HTMLElement {
  const records = boardRecords(session.user.id).filter((r) => projectId === null || r.board.project_id === projectId)
  const list = h('ul', { class: 'board-list', 'aria-labelledby': 'offline-heading' })
  for (const r of records) {
    list.append(h('li', { class: 'board-row' },
      h('div', { class: 'board-row-main' },
        h('a', { href: paths.board(r.board.id), class: 'card-title' }, r.board.title),
        h('span', { class: 'badge' }, kindLabel(r.board.kind)),
        projectId === null && r.projectName ? h('span', { class: 'hint' }, r.projectName) : null)))
  }
  return h('section', { class: 'offline-boards', 'aria-labelledby': 'offline-heading' },
    h('h2', { id: 'offline-heading' }, t('offline.title')),
    h('p', { class: 'hint' }, records.length ? t('offline.intro') : t('offline.none')),
    records.length ? list : null)
}

function render (main: HTMLElement, project: Project, initialBoards: Board[], members: Member[], session: UserSession): void {
  document.title = `${project.name} · ${t('app.name')}`
  const canFacilitate = facilitates(project.role)
  let boards = initialBoards
  const list = h('ul', { class: 'board-list', 'aria-labelledby': 'boards-heading' })
  const showArchived = h('input', { type: 'checkbox', id: 'show-archived' })
  const invites = canFacilitate ? new InvitesSection(session, members) : null

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
    invites?.load(boards)
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
      invite.addEventListener('click', () => openInviteDialog(board, session, () => invites?.load(boards)))
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
    ...(invites ? [invites.el] : []),
    new MembersSection(project, members, session).el)
  redraw()
  invites?.load(boards)
}

function createBoardForm (project: Project, created: (b: Board) => void): HTMLFormElement {
  const title = h('input', { id: 'board-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off' })
  const kind = h('select', { id: 'board-kind', name: 'kind' })
  for (const k of BOARD_KINDS) kind.append(h('option', { value: k }, kindLabel(k)))
  const template = templateSelect(kind)
  const error = h('p', { class: 'error', role: 'alert' })
  const form = h('form', { class: 'inline-form', 'aria-labelledby': 'new-board-heading' },
    h('h3', { id: 'new-board-heading' }, t('boards.create')),
    h('div', { class: 'field' }, h('label', { for: 'board-title' }, t('boards.boardTitle')), title),
    template.field,
    h('div', { class: 'field' }, h('label', { for: 'board-kind' }, t('boards.kind')), kind),
    h('button', { type: 'submit' }, t('boards.createButton')),
    error)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    try {
      created(await api.createBoard(project.id, title.value.trim(), kind.value as BoardKind, template.value()))
      title.value = ''
    } catch (err) { error.textContent = errorText(err) }
  })
  return form
}

// ---- members ------------------------------------------------------------------------------

/** The members and their roles; owners change roles, remove members and (admins) add some. */
class MembersSection {
  readonly el: HTMLElement
  private readonly body = h('tbody')
  private readonly manage: boolean
  private readonly addSlot = h('div')

  constructor (private readonly project: Project, private members: Member[], private readonly session: UserSession) {
    // Roles and membership are the owners' (tenant admins act as owners).
    this.manage = project.role === 'owner'
    const head = h('tr', {},
      h('th', { scope: 'col' }, t('members.name')),
      h('th', { scope: 'col' }, t('members.email')),
      h('th', { scope: 'col' }, t('members.role')),
      this.manage ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('members.actions'))) : null)
    const table = h('table', { class: 'members' },
      h('caption', { class: 'visually-hidden' }, t('members.title')),
      h('thead', {}, head), this.body)
    this.el = h('section', { 'aria-labelledby': 'members-heading', class: 'members-section' },
      h('h2', { id: 'members-heading' }, t('members.title')),
      table, this.addSlot)
    this.redraw()
    if (this.manage && session.user.tenant_role === 'admin') void this.addForm()
  }

  private redraw (): void {
    clear(this.body)
    if (this.members.length === 0) {
      this.body.append(h('tr', {}, h('td', { colspan: this.manage ? 4 : 3, class: 'hint' }, t('members.none'))))
    }
    for (const m of this.members) this.body.append(this.row(m))
  }

  private row (m: Member): HTMLTableRowElement {
    const you = m.user_id === this.session.user.id
    const name = h('td', {}, m.display_name, you ? h('span', { class: 'hint' }, ` ${t('members.you')}`) : null)
    if (!this.manage || you) {
      return h('tr', { 'data-member': m.user_id }, name, h('td', {}, m.email), h('td', {}, roleLabel(m.role)), this.manage ? h('td') : null)
    }
    const select = h('select', { class: 'role-select', 'aria-label': t('members.roleOf', { name: m.display_name }) })
    for (const r of ROLES) select.append(h('option', { value: r, selected: r === m.role }, roleLabel(r)))
    const error = h('span', { class: 'error', role: 'alert' })
    select.addEventListener('change', async () => {
      error.textContent = ''
      select.disabled = true
      try {
        const updated = await api.setMember(this.project.id, m.user_id, select.value as ProjectRole)
        this.members = this.members.map((x) => (x.user_id === m.user_id ? updated : x))
        announce(t('members.roleChanged', { name: m.display_name, role: roleLabel(updated.role) }))
      } catch (err) {
        select.value = m.role
        error.textContent = errorText(err)
      } finally {
        select.disabled = false
      }
    })
    const actions = h('td', { class: 'member-actions' })
    const remove = h('button', { type: 'button', class: 'secondary danger', 'aria-label': t('members.removeLabel', { name: m.display_name }) }, t('members.remove'))
    remove.addEventListener('click', () => {
      // One more tap to confirm: removing closes the member's open boards at once.
      const confirm = h('button', { type: 'button', class: 'danger' }, t('members.confirmRemove', { name: m.display_name }))
      const cancel = h('button', { type: 'button', class: 'secondary' }, t('common.cancel'))
      const back = (): void => { actions.replaceChildren(remove, error); remove.focus() }
      cancel.addEventListener('click', back)
      confirm.addEventListener('click', async () => {
        confirm.disabled = true
        try {
          await api.removeMember(this.project.id, m.user_id)
          this.members = this.members.filter((x) => x.user_id !== m.user_id)
          this.redraw()
          announce(t('members.removed', { name: m.display_name }))
          this.el.querySelector<HTMLElement>('h2')?.focus()
          void this.addForm()
        } catch (err) {
          back()
          error.textContent = errorText(err)
        }
      })
      actions.replaceChildren(h('span', { class: 'confirm-row' }, confirm, cancel), error)
      confirm.focus()
    })
    actions.append(remove, error)
    return h('tr', { 'data-member': m.user_id }, name, h('td', {}, m.email), h('td', {}, select), actions)
  }

  /** Adding an account of the organisation (tenant admins: only they can list the accounts). */
  private async addForm (): Promise<void> {
    if (!this.manage || this.session.user.tenant_role !== 'admin') return
    let users
    try { users = await api.users() } catch { return }
    const candidates = users.filter((u) => !this.members.some((m) => m.user_id === u.id))
    clear(this.addSlot)
    if (candidates.length === 0) return
    const who = h('select', { id: 'add-member-user' })
    for (const u of candidates) who.append(h('option', { value: u.id }, `${u.display_name} (${u.email})`))
    const role = h('select', { id: 'add-member-role' })
    for (const r of ROLES) role.append(h('option', { value: r, selected: r === 'editor' }, roleLabel(r)))
    const error = h('p', { class: 'error', role: 'alert' })
    const form = h('form', { class: 'inline-form', 'aria-labelledby': 'add-member-heading' },
      h('h3', { id: 'add-member-heading' }, t('members.add')),
      h('div', { class: 'field' }, h('label', { for: 'add-member-user' }, t('members.account')), who),
      h('div', { class: 'field' }, h('label', { for: 'add-member-role' }, t('members.role')), role),
      h('button', { type: 'submit' }, t('members.addButton')),
      error)
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      error.textContent = ''
      try {
        const added = await api.setMember(this.project.id, who.value, role.value as ProjectRole)
        this.members = [...this.members, added]
        this.redraw()
        announce(t('members.added', { name: added.display_name }))
        await this.addForm()
      } catch (err) { error.textContent = errorText(err) }
    })
    this.addSlot.append(form)
  }
}

// ---- invitations --------------------------------------------------------------------------

/**
 * The invitations still running, for every board of the project (facilitators). The server
 * keeps only a hash of each link's secret: a link can be shown again (copy, QR code) only on the
 * device that created it (device.ts keeps it); any facilitator revokes any of them, by id.
 */
class InvitesSection {
  readonly el: HTMLElement
  private readonly list = h('ul', { class: 'invite-list', 'aria-labelledby': 'invites-heading' })
  private readonly status = h('p', { class: 'hint', role: 'status' })
  private generation = 0

  constructor (private readonly session: UserSession, private readonly members: Member[]) {
    this.el = h('section', { 'aria-labelledby': 'invites-heading', class: 'invites-section' },
      h('h2', { id: 'invites-heading' }, t('invites.title')),
      h('p', { class: 'hint' }, t('invites.intro')),
      this.status, this.list)
  }

  /** (Re)loads the running invitations of the project's open boards. */
  async load (boards: Board[]): Promise<void> {
    const generation = ++this.generation
    const open = boards.filter((b) => b.archived_at === null)
    let lists: Invite[][]
    try {
      lists = await Promise.all(open.map((b) => api.invites(b.id)))
    } catch (err) {
      if (generation === this.generation) this.status.textContent = errorText(err)
      return
    }
    if (generation !== this.generation) return
    const now = Date.now()
    const running = lists.flat().filter((i) => i.revoked_at === null && i.expires_at > now).sort((a, b) => a.expires_at - b.expires_at)
    const titles = new Map(open.map((b) => [b.id, b.title]))
    clear(this.list)
    this.status.textContent = running.length ? '' : t('invites.none')
    for (const invite of running) this.list.append(this.row(invite, titles.get(invite.board_id) ?? ''))
  }

  /** `created_by` is the creator's principal: `user:ID` (or `guest:ID`). */
  private creatorName (principal: string): string {
    const id = principal.startsWith('user:') ? principal.slice(5) : principal
    if (id === this.session.user.id) return t('invites.byYou')
    return this.members.find((m) => m.user_id === id)?.display_name ?? t('invites.bySomeone')
  }

  private row (invite: Invite, boardTitle: string): HTMLLIElement {
    const link = inviteLink(this.session.user.id, invite.id)
    const role = t(invite.role === 'editor' ? 'invite.role.editor' : 'invite.role.viewer')
    const titleId = `invite-${invite.id}`
    const error = h('span', { class: 'error', role: 'alert' })
    const actions = h('div', { class: 'row-actions' })
    const li = h('li', { class: 'invite-row', 'data-invite': invite.id, 'aria-labelledby': titleId },
      h('div', { class: 'invite-main' },
        h('span', { class: 'card-title', id: titleId }, boardTitle),
        h('span', { class: 'hint' }, t('invites.details', { role, date: formatDate(invite.expires_at), who: this.creatorName(invite.created_by) }))),
      actions, error)
    // The link itself (copy, QR code) only where it was made; revoking works from anywhere.
    const shown: HTMLElement[] = []
    if (link) {
      const copy = h('button', { type: 'button', class: 'secondary', 'aria-label': t('invites.copyLabel', { title: boardTitle }) }, t('invite.copy'))
      copy.addEventListener('click', async () => {
        await copyText(link.url)
        announce(t('invite.copied'))
      })
      const qr = h('button', { type: 'button', class: 'secondary', 'aria-label': t('invites.qrLabel', { title: boardTitle }) }, t('invites.qr'))
      qr.addEventListener('click', () => showQrDialog(boardTitle, link.url))
      shown.push(copy, qr)
    } else {
      shown.push(h('span', { class: 'hint' }, t('invites.elsewhere')))
    }
    const revoke = h('button', { type: 'button', class: 'secondary danger', 'aria-label': t('invites.revokeLabel', { title: boardTitle }) }, t('invites.revoke'))
    revoke.addEventListener('click', () => {
      const confirm = h('button', { type: 'button', class: 'danger' }, t('invites.confirmRevoke'))
      const cancel = h('button', { type: 'button', class: 'secondary' }, t('common.cancel'))
      const back = (): void => { actions.replaceChildren(...shown, revoke); revoke.focus() }
      cancel.addEventListener('click', back)
      confirm.addEventListener('click', async () => {
        confirm.disabled = true
        try {
          await api.revokeBoardInvite(invite.board_id, invite.id)
          forgetInvite(this.session.user.id, invite.id)
          li.remove()
          if (this.list.childElementCount === 0) this.status.textContent = t('invites.none')
          announce(t('invites.revoked'))
          this.el.querySelector<HTMLElement>('h2')?.focus()
        } catch (err) {
          back()
          error.textContent = errorText(err)
        }
      })
      actions.replaceChildren(confirm, cancel)
      confirm.focus()
    })
    actions.append(...shown, revoke)
    return li
  }
}

async function copyText (text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
  } catch {
    // Older browsers, or no permission: a hidden field and the legacy command.
    const field = h('textarea', { class: 'visually-hidden', readonly: true })
    field.value = text
    document.body.append(field)
    field.select()
    document.execCommand('copy')
    field.remove()
  }
}

function showQrDialog (boardTitle: string, url: string): void {
  const close = h('button', { type: 'button' }, t('common.close'))
  const dialog = h('dialog', { class: 'invite-dialog qr-dialog', 'aria-labelledby': 'qr-heading' },
    h('h2', { id: 'qr-heading' }, t('invite.title', { title: boardTitle })),
    h('figure', { class: 'qr-figure' }, qrSvg(url, t('invite.qrLabel')), h('figcaption', {}, t('invite.qrCaption'))),
    h('p', { class: 'qr-url' }, url),
    h('div', { class: 'dialog-actions' }, close))
  close.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  close.focus()
}

function openInviteDialog (board: Board, session: UserSession, created: () => void): void {
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
      const made = await api.createInvite(board.id, role.value as 'editor' | 'viewer', Number(expiry.value))
      rememberInvite(session.user.id, { id: made.invite.id, boardId: board.id, url: made.url, token: made.token, expiresAt: made.invite.expires_at })
      created()
      clear(result)
      const link = h('input', { id: 'invite-link', readonly: true, value: made.url, 'aria-label': t('invite.link') })
      const copied = h('span', { class: 'hint', role: 'status' })
      const copy = h('button', { type: 'button' }, t('invite.copy'))
      copy.addEventListener('click', async () => {
        await copyText(made.url)
        copied.textContent = t('invite.copied')
      })
      result.append(
        h('h3', {}, t('invite.ready')),
        h('div', { class: 'copy-row' }, link, copy), copied,
        h('p', { class: 'hint' }, t('invite.expires', { role: t(made.invite.role === 'editor' ? 'invite.role.editor' : 'invite.role.viewer'), date: formatDate(made.invite.expires_at) })),
        h('figure', { class: 'qr-figure' }, qrSvg(made.url, t('invite.qrLabel')), h('figcaption', {}, t('invite.qrCaption'))))
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
