// The board page: loads the board and the participant's role, opens the connection, and puts
// the canvas, notes, presence, toolbar, outline and status bar together.

import * as Y from 'yjs'
import { api, facilitates, type Board, type ProjectRole } from '../api'
import { announce, h } from '../dom'
import { kindLabel, onLanguageChange, t } from '../i18n'
import { Canvas } from '../board/canvas'
import type { BoardContext } from '../board/context'
import { icon } from '../board/icons'
import { NotesLayer, noteIdOf } from '../board/notes'
import { Outline } from '../board/outline'
import { colorFor, Presence } from '../board/presence'
import { DEFAULT_NOTE_COLOR, META, metaOf, notesOf, SCHEMA_VERSION } from '../board/schema'
import { Selection } from '../board/selection'
import { StatusBar, type ReadOnlyReason } from '../board/status'
import { BoardSync, cacheName, LOCAL } from '../board/sync'
import { Toolbar } from '../board/toolbar'
import { navigate, paths } from '../router'
import { clearSession, displayName, participantId, type Session } from '../session'
import { languageSwitch, setFlash } from '../shell'
import { errorText } from './common'

export function renderBoardPage (main: HTMLElement, boardId: string, session: Session): () => void {
  let alive = true
  let teardown: (() => void) | null = null
  const loading = h('p', { class: 'hint board-loading', role: 'status' }, t('common.loading'))
  main.append(loading)

  if (session.kind === 'guest' && session.guest.board_id !== boardId) {
    loading.textContent = t('error.notFound')
    return () => {}
  }

  resolveAccess(boardId, session)
    .then(({ board, role }) => {
      if (!alive) return
      loading.remove()
      teardown = mountBoard(main, board, role, session)
    })
    .catch((err) => {
      if (!alive) return
      loading.textContent = errorText(err)
      main.append(h('p', {}, h('a', { href: '/' }, t('notFound.back'))))
    })
  return () => {
    alive = false
    teardown?.()
  }
}

/** The board and this participant's role on it (a guest's comes from the invitation). */
async function resolveAccess (boardId: string, session: Session): Promise<{ board: Board, role: ProjectRole | 'guest-editor' | 'guest-viewer' }> {
  const board = await api.board(boardId)
  if (session.kind === 'guest') return { board, role: session.guest.role === 'editor' ? 'guest-editor' : 'guest-viewer' }
  const project = await api.project(board.project_id)
  return { board, role: project.role }
}

function mountBoard (main: HTMLElement, board: Board, role: ProjectRole | 'guest-editor' | 'guest-viewer', session: Session): () => void {
  document.title = `${board.title} · ${t('app.name')}`
  const guest = session.kind === 'guest'
  const sync = new BoardSync({
    boardId: board.id,
    token: session.token,
    // A guest's device keeps no copy of the board (a shared tablet in a public evening).
    cache: guest ? null : cacheName(session.user.id, board.id)
  })
  const doc = sync.doc
  const roleReason: ReadOnlyReason = board.archived_at !== null
    ? 'archived'
    : role === 'viewer' || role === 'guest-viewer' ? 'viewer' : null
  const readOnlyReason = (): ReadOnlyReason => roleReason ?? (sync.denied ? 'denied' : null)

  const viewport = h('div', { class: 'canvas', tabindex: '0', role: 'region' })
  const canvas = new Canvas(viewport)
  const selection = new Selection()
  const undo = new Y.UndoManager([notesOf(doc)], { trackedOrigins: new Set([LOCAL]), captureTimeout: 600 })
  const ctx: BoardContext = {
    doc,
    sync,
    canvas,
    selection,
    undo,
    participantId: participantId(session),
    canEdit: () => readOnlyReason() === null && sync.connection !== 'revoked' && sync.connection !== 'deleted',
    layers: [],
    noteColor: DEFAULT_NOTE_COLOR
  }
  const notes = new NotesLayer(ctx)
  const me = { id: ctx.participantId, name: displayName(session), color: colorFor(ctx.participantId), guest }
  const presence = new Presence(ctx, notes, me)
  const toolbar = new Toolbar(ctx, notes)
  const outline = new Outline(ctx, notes)
  const status = new StatusBar(sync)

  canvas.setHooks({
    doubleTap: (x, y) => { notes.create(x, y) },
    tap: (e) => { if (!e.shiftKey) selection.clear() },
    box: (rect, additive, done) => {
      const ids = notes.inRect(rect)
      if (additive) selection.add(ids)
      else selection.set(ids)
      if (done && ids.length) announce(t('selection.count', { n: selection.size }))
    },
    boxMode: () => toolbar.boxMode,
    hover: (point) => presence.setCursor(point)
  })

  // ---- header ------------------------------------------------------------------------------
  const outlineToggle = h('button', { type: 'button', class: 'tool', 'aria-controls': 'board-outline', 'aria-expanded': 'false' })
  const readOnlyBadge = h('span', { class: 'badge readonly-badge' })
  const title = h('h1', { class: 'board-title' })
  const back = guest ? null : h('a', { class: 'tool back-link', href: paths.project(board.project_id) })
  const leave = h('button', { type: 'button', class: 'secondary leave' })
  const langSlot = h('span', { class: 'lang-slot' })
  const header = h('header', { class: 'board-header' },
    back, title, readOnlyBadge,
    h('div', { class: 'board-header-right' }, presence.list, outlineToggle, langSlot, leave))
  const layout = h('div', { class: 'board-layout' },
    header,
    toolbar.el,
    h('div', { class: 'board-body' }, viewport, outline.el),
    status.el)
  viewport.append(toolbar.zoomEl)
  main.append(layout)

  let outlineOpen = window.matchMedia('(min-width: 1100px)').matches
  const labels = (): void => {
    document.title = `${board.title} · ${t('app.name')}`
    title.textContent = board.title
    title.append(h('span', { class: 'badge' }, kindLabel(board.kind)))
    viewport.setAttribute('aria-label', t('board.canvasLabel', { title: board.title }))
    viewport.setAttribute('aria-roledescription', t('board.canvasRole'))
    outlineToggle.replaceChildren(icon('outline'), h('span', { class: 'tool-label' }, t('outline.toggle')))
    outlineToggle.title = t('outline.toggle')
    if (back) {
      back.replaceChildren(icon('back'), h('span', { class: 'tool-label' }, t('board.backToProject')))
      back.title = t('board.backToProject')
    }
    leave.replaceChildren(icon('leave'), h('span', {}, guest ? t('board.leave') : t('signin.signOutShort')))
    langSlot.replaceChildren(languageSwitch())
    notes.relabel()
    toolbar.build()
    outline.render()
    status.render()
    presence.render()
    applyReadOnly()
  }
  const applyOutline = (): void => {
    outline.el.hidden = !outlineOpen
    outlineToggle.setAttribute('aria-expanded', String(outlineOpen))
    outlineToggle.setAttribute('aria-pressed', String(outlineOpen))
  }
  outlineToggle.addEventListener('click', () => { outlineOpen = !outlineOpen; applyOutline() })
  applyOutline()

  let announcedReadOnly: ReadOnlyReason = null
  const applyReadOnly = (): void => {
    const reason = readOnlyReason()
    layout.classList.toggle('read-only', reason !== null)
    readOnlyBadge.hidden = reason === null
    readOnlyBadge.textContent = t('board.readOnly')
    status.setReadOnly(reason)
    toolbar.update()
    if (reason !== null && !ctx.canEdit()) notes.stopEditing()
    if (reason === 'denied' && announcedReadOnly !== 'denied') announce(t('status.readOnly.denied'))
    announcedReadOnly = reason
  }

  // ---- leaving -----------------------------------------------------------------------------
  let left = false
  const leaveBoard = async (): Promise<void> => {
    if (left) return
    left = true
    teardown()
    await sync.destroy({ forget: guest })
    if (guest) {
      clearSession()
      setFlash(t('board.left'))
      navigate('/', { replace: true })
    } else {
      try { await api.logout() } catch { /* forgotten anyway */ }
      clearSession()
      setFlash(t('signin.signedOut'))
      navigate('/')
    }
  }
  leave.addEventListener('click', () => { void leaveBoard() })
  // After a refusal: drop the refused changes (and the offline copy holding them), reload.
  status.reload.addEventListener('click', async () => {
    left = true
    teardown()
    await sync.destroy({ forget: true })
    location.reload()
  })

  // ---- keyboard ----------------------------------------------------------------------------
  const onKey = (e: KeyboardEvent): void => {
    const target = e.target as HTMLElement
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return
    if (!layout.contains(target) && target !== document.body) return
    const mod = e.ctrlKey || e.metaKey
    const key = e.key.toLowerCase()
    let handled = true
    if (mod && key === 'z') {
      if (!ctx.canEdit()) return
      if (e.shiftKey) undo.redo()
      else undo.undo()
    } else if (mod && key === 'y') {
      if (ctx.canEdit()) undo.redo()
    } else if (!mod && (e.key === '+' || e.key === '=')) {
      canvas.zoomBy(1.25)
    } else if (!mod && (e.key === '-' || e.key === '_')) {
      canvas.zoomBy(1 / 1.25)
    } else if (e.shiftKey && (e.code === 'Digit1' || e.key === '!')) {
      canvas.fit(notes.bounds())
    } else if (viewport.contains(target) || target === document.body) {
      handled = notes.handleKey(e)
    } else {
      handled = false
    }
    if (handled) e.preventDefault()
  }
  document.addEventListener('keydown', onKey)

  // Double-clicking on a note edits it (the canvas' own double tap covers the background).
  viewport.addEventListener('dblclick', (e) => {
    const id = noteIdOf(e.target)
    if (id && ctx.canEdit()) notes.startEditing(id)
  })

  // ---- wiring ------------------------------------------------------------------------------
  canvas.onChange(() => status.setZoom(canvas.view.scale))
  const offSync = sync.on(() => {
    applyReadOnly()
    if (sync.connection === 'revoked' || sync.connection === 'deleted') notes.stopEditing()
  })
  let fitted = false
  const fitOnce = (): void => {
    if (fitted || !sync.synced) return
    fitted = true
    canvas.fit(notes.bounds())
    // The first editor of a new board writes the schema version.
    if (ctx.canEdit() && !metaOf(doc).has(META.schema)) {
      doc.transact(() => {
        metaOf(doc).set(META.schema, SCHEMA_VERSION)
        metaOf(doc).set(META.kind, board.kind)
      }, 'atelier-setup')
    }
  }
  const offFit = sync.on(fitOnce)
  canvas.fit(null)
  // The offline copy (if any) shows something at once; the server's state refits once synced.
  sync.persistence?.whenSynced.then(() => { if (!fitted) canvas.fit(notes.bounds()) }).catch(() => {})
  const offLang = onLanguageChange(labels)
  labels()
  if (facilitates(role as ProjectRole)) layout.classList.add('facilitator')
  viewport.focus({ preventScroll: true })

  const teardown = (): void => {
    offLang()
    offSync()
    offFit()
    document.removeEventListener('keydown', onKey)
    presence.destroy()
    outline.destroy()
    notes.destroy()
    canvas.destroy()
    undo.destroy()
  }
  return () => {
    if (left) return
    left = true
    teardown()
    void sync.destroy({ forget: guest })
  }
}
