// The board page: loads the board and the participant's role, opens the connection, and puts
// the canvas, notes, presence, toolbar, outline and status bar together.

import * as Y from 'yjs'
import { api, ApiError, facilitates, type Board, type ProjectRole } from '../api'
import { announce, h } from '../dom'
import { kindLabel, onLanguageChange, t } from '../i18n'
import { Canvas, ZOOM_LABEL_MS } from '../board/canvas'
import { BoardClipboard } from '../board/clipboard'
import { ClustersLayer } from '../board/clusters'
import type { BoardContext } from '../board/context'
import { FacilitationRules } from '../board/facilitation'
import { Follow } from '../board/follow'
import { FramesLayer } from '../board/frames'
import { Handles } from '../board/handles'
import { ImageStore } from '../board/images'
import { icon } from '../board/icons'
import { boardBounds, type BoundedLayer } from '../board/layers'
import { Locks } from '../board/locks'
import { Minimap } from '../board/minimap'
import { NotesLayer, noteIdOf } from '../board/notes'
import { ItemOps } from '../board/operations'
import { OrganiseTools } from '../board/organise'
import { Outline } from '../board/outline'
import type { SidePanel } from '../board/panel'
import { Agenda, AgendaPanel, PhaseStrip } from '../board/phases'
import { colorFor, Presence } from '../board/presence'
import { SilentWriting } from '../board/private'
import { clustersOf, DEFAULT_NOTE_COLOR, framesOf, ITEM_ROOTS, META, metaOf, notesOf, SCHEMA_VERSION, shapesOf, strokesOf } from '../board/schema'
import { Selection } from '../board/selection'
import { ShapesLayer } from '../board/shapes'
import { Stacking } from '../board/stacking'
import { StatusBar, type ReadOnlyReason } from '../board/status'
import { BoardSync, cacheName, clearCachedBoard, clearCachedBoards, LOCAL } from '../board/sync'
import { StrokesLayer } from '../board/strokes'
import { Toolbar } from '../board/toolbar'
import { SharedTimer, TimerDisplay } from '../board/timer'
import { Tools } from '../board/tools'
import { VersionsPanel } from '../board/versions'
import { Voting } from '../board/voting'
import { boardRecord, forgetBoard, rememberBoard } from '../device'
import { navigate, paths } from '../router'
import { clearSession, displayName, participantId, type Session } from '../session'
import { languageSwitch, setFlash } from '../shell'
import { errorText } from './common'
import { mountKind, type KindView } from '../kinds'
import { saveTemplateButton } from './templates'

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
    .then(({ board, role, offline }) => {
      if (!alive) return
      loading.remove()
      teardown = mountBoard(main, board, role, session, offline)
    })
    .catch((err) => {
      if (!alive) return
      if (!(err instanceof ApiError)) console.error(err)
      loading.textContent = errorText(err)
      main.append(h('p', {}, h('a', { href: '/' }, t('notFound.back'))))
    })
  return () => {
    alive = false
    teardown?.()
  }
}

type BoardRole = ProjectRole | 'guest-editor' | 'guest-viewer'

/** How long the page waits for the server before opening a board this device has a copy of. */
const OFFLINE_WAIT_MS = 4000

/**
 * The board and this participant's role on it (a guest's comes from the invitation). A signed-in
 * user's board that this device keeps a copy of opens from its record (device.ts) when the server
 * does not answer in time (`offline`); an answer that the board is gone erases that copy.
 */
async function resolveAccess (boardId: string, session: Session): Promise<{ board: Board, role: BoardRole, offline: boolean }> {
  if (session.kind === 'guest') {
    const board = await api.board(boardId)
    return { board, role: session.guest.role === 'editor' ? 'guest-editor' : 'guest-viewer', offline: false }
  }
  const userId = session.user.id
  const record = boardRecord(userId, boardId)
  const online = fetchAccess(boardId).then((access) => {
    rememberBoard(userId, { ...access, openedAt: Date.now() })
    return access
  })
  if (!record) return { ...await online, offline: false }
  online.catch(() => {})
  let timer = 0
  const late = new Promise<never>((_resolve, reject) => {
    timer = window.setTimeout(() => reject(new ApiError(0, 'timeout', 'no answer')), OFFLINE_WAIT_MS)
  })
  try {
    return { ...await Promise.race([online, late]), offline: false }
  } catch (err) {
    if (err instanceof ApiError && err.status === 0) return { board: record.board, role: record.role, offline: true }
    if (err instanceof ApiError && err.status === 404) {
      forgetBoard(userId, boardId)
      void clearCachedBoard(userId, boardId)
    }
    throw err
  } finally {
    clearTimeout(timer)
  }
}

async function fetchAccess (boardId: string): Promise<{ board: Board, role: ProjectRole, projectName: string }> {
  const board = await api.board(boardId)
  const project = await api.project(board.project_id)
  return { board, role: project.role, projectName: project.name }
}

function mountBoard (main: HTMLElement, board: Board, role: BoardRole, session: Session, offline: boolean): () => void {
  document.title = `${board.title} · ${t('app.name')}`
  const guest = session.kind === 'guest'
  const sync = new BoardSync({
    boardId: board.id,
    token: session.token,
    // A guest's device keeps no copy of the board (a shared tablet in a public evening).
    cache: guest ? null : cacheName(session.user.id, board.id),
    unreachable: offline
  })
  const doc = sync.doc
  // (board and role change when a board opened offline hears from the server: see below.)
  const roleReason = (): ReadOnlyReason => board.archived_at !== null
    ? 'archived'
    : role === 'viewer' || role === 'guest-viewer' ? 'viewer' : null
  const readOnlyReason = (): ReadOnlyReason => roleReason() ?? (sync.denied ? 'denied' : null)

  const viewport = h('div', { class: 'canvas', tabindex: '0', role: 'region' })
  const canvas = new Canvas(viewport)
  const selection = new Selection()
  const undo = new Y.UndoManager([notesOf(doc), clustersOf(doc), strokesOf(doc), shapesOf(doc), framesOf(doc)], { trackedOrigins: new Set([LOCAL]), captureTimeout: 600 })
  // The facilitation rules (locked items, what the current phase allows), as the server applies
  // them; facilitators are bound by none.
  const isFacilitator = (): boolean => facilitates(role as ProjectRole)
  const rules = new FacilitationRules(doc, isFacilitator)
  const toast = h('div', { class: 'board-toast facilitation-toast', role: 'status', hidden: true })
  let toastTimer = 0
  /** Whether the toast says what the current phase refuses (a change of phase makes it stale). */
  let toastRefusal = false
  const tell = (message: string): void => {
    toastRefusal = ITEM_ROOTS.some((root) => rules.addRefusal(root) === message)
    toast.textContent = message
    toast.hidden = false
    announce(message)
    clearTimeout(toastTimer)
    toastTimer = window.setTimeout(() => { toast.hidden = true }, 5000)
  }
  const ctx: BoardContext = {
    doc,
    sync,
    canvas,
    selection,
    undo,
    participantId: participantId(session),
    canEdit: () => readOnlyReason() === null && sync.connection !== 'revoked' && sync.connection !== 'deleted',
    layers: [],
    noteColor: DEFAULT_NOTE_COLOR,
    facilitator: isFacilitator,
    lockedForMe: (id) => rules.lockedForMe(id),
    addRefusal: (root) => rules.addRefusal(root),
    tell
  }
  // Notes, clusters (under them), dot voting, and the operations across every layer.
  const ops = new ItemOps(ctx)
  const voting = new Voting(ctx, () => facilitates(role as ProjectRole))
  const notes = new NotesLayer(ctx, voting)
  const clusters = new ClustersLayer(ctx, notes, voting)
  const clipboard = new BoardClipboard(ctx, ops, main)
  const locks = new Locks(ctx, rules)
  const organise = new OrganiseTools(ctx, ops, clipboard, clusters, notes, voting, locks)
  const me = { id: ctx.participantId, name: displayName(session), color: colorFor(ctx.participantId), guest, ...(facilitates(role as ProjectRole) ? { facilitator: true } : {}) }
  const presence = new Presence(ctx, notes, me)
  const toolbar = new Toolbar(ctx, notes, ops, organise)
  const outline = new Outline(ctx, notes, clusters, voting)
  const status = new StatusBar(sync)
  // Drawing: frames (under everything), strokes, shapes and images, their handles and tools;
  // notes, strokes and shapes interleave by z (stacking.ts).
  const images = new ImageStore(board.id)
  const frames = new FramesLayer(ctx)
  const strokes = new StrokesLayer(ctx)
  const shapes = new ShapesLayer(ctx, images)
  const handles = new Handles(ctx, strokes, shapes, frames)
  const tools = new Tools(ctx, strokes, shapes, frames, handles, images)
  const stacking = new Stacking(ctx)
  const follow = new Follow(ctx, presence, () => facilitates(role as ProjectRole))
  // Facilitation: the shared timer, the agenda of phases (the strip over the board, the
  // facilitators' panel) and the versions of the board.
  const sharedTimer = new SharedTimer(ctx, rules)
  const timerDisplay = new TimerDisplay(ctx, sharedTimer, rules)
  const agenda = new Agenda(ctx, rules, sharedTimer)
  const strip = new PhaseStrip(ctx, rules, agenda, timerDisplay)
  follow.el.prepend(strip.el)
  // Silent writing: during a private phase, participants' new notes stay in their private
  // document until a facilitator reveals them (private.ts).
  const silent = new SilentWriting(ctx, notes, {
    boardId: board.id,
    token: session.token,
    cache: guest ? null : cacheName(session.user.id, `${board.id}/mine`),
    writer: () => !isFacilitator() && roleReason() === null,
    facilitator: isFacilitator,
    layersChanged: (layer) => { stacking.watch(); outline.setPrivate(layer) }
  })
  strip.el.after(silent.banner)
  const panels: SidePanel[] = []
  const agendaPanel = new AgendaPanel(ctx, rules, agenda, sharedTimer, panels)
  const body = h('div', { class: 'board-body' }, viewport, outline.el, agendaPanel.panel.el)
  const versionsPanel = new VersionsPanel(ctx, rules, {
    boardId: board.id,
    boardTitle: () => board.title,
    projectId: guest ? null : board.project_id,
    host: body,
    images
  }, panels)
  body.append(versionsPanel.panel.el)
  const saveTemplate = saveTemplateButton(board)
  const facilitationTools = h('div', { class: 'tool-group facilitation-tools', role: 'group' }, agendaPanel.panel.toggle, versionsPanel.panel.toggle, saveTemplate.el)
  toolbar.extras.push(facilitationTools)
  // The board's workshop kind (kinds/): what its method adds to the generic board.
  const kindTools = h('div', { class: 'tool-group kind-tools', role: 'group' })
  toolbar.extras.push(kindTools)
  let phaseShown = rules.currentId
  const offRules = rules.onMetaChange(() => {
    toolbar.update()
    tools.update()
    // What the last phase refused is no longer the news.
    if (rules.currentId !== phaseShown) {
      phaseShown = rules.currentId
      if (toastRefusal) toast.hidden = true
    }
  })
  // Every layer of items; notes are read through this adapter until they register in ctx.layers.
  const notesBounds: BoundedLayer = { name: 'notes', ids: () => notes.all().map((n) => n.id), bounds: (ids) => notes.bounds(ids), onChange: (fn) => notes.onChange(fn) }
  const allLayers = (): readonly BoundedLayer[] => ctx.layers.some((l) => l.name === 'notes') ? ctx.layers : [notesBounds, ...ctx.layers]
  const minimap = new Minimap(ctx, allLayers)
  /** Zoom to fit: every item of every layer. */
  const fitAll = (): void => canvas.fit(boardBounds(allLayers()))

  canvas.setHooks({
    doubleTap: (x, y) => { notes.create(x, y) },
    tap: (e) => { if (!e.shiftKey) selection.clear() },
    box: (rect, additive, done) => ops.selectRect(rect, additive, done),
    boxMode: () => toolbar.boxMode,
    lasso: (points, additive, done) => ops.selectLasso(points, additive, done),
    lassoMode: () => toolbar.lassoMode,
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
    h('div', { class: 'board-header-right' }, presence.list, follow.summonButton, outlineToggle, langSlot, leave))
  const layout = h('div', { class: 'board-layout' },
    header,
    toolbar.el,
    body,
    status.el)
  viewport.append(toolbar.zoomEl, minimap.el, toast)
  main.append(layout)
  const kindView: KindView | null = mountKind(board.kind, {
    ctx,
    board: () => board,
    role: () => role,
    session,
    notes,
    clusters,
    voting,
    frames,
    shapes,
    images,
    ops,
    toolbar,
    tools,
    presence,
    follow,
    rules,
    timer: sharedTimer,
    layout,
    body,
    viewport,
    panels,
    toolbarExtras: kindTools
  })

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
    clusters.relabel()
    toolbar.build()
    tools.build()
    tools.mount(toolbar.el)
    for (const layer of [strokes, shapes, frames]) layer.relabel()
    outline.render()
    status.render()
    presence.render()
    follow.render()
    minimap.render()
    facilitationTools.hidden = !isFacilitator()
    facilitationTools.setAttribute('aria-label', t('facilitation.tools'))
    agendaPanel.relabel()
    versionsPanel.relabel()
    saveTemplate.relabel()
    locks.relabel()
    strip.render()
    silent.update()
    kindTools.hidden = kindTools.childElementCount === 0
    kindTools.setAttribute('aria-label', kindLabel(board.kind))
    kindView?.relabel()
    applyReadOnly()
  }
  const applyOutline = (): void => {
    outline.el.hidden = !outlineOpen
    outlineToggle.setAttribute('aria-expanded', String(outlineOpen))
    outlineToggle.setAttribute('aria-pressed', String(outlineOpen))
  }
  outlineToggle.addEventListener('click', () => {
    outlineOpen = !outlineOpen
    if (outlineOpen) for (const panel of panels) panel.show(false)
    applyOutline()
  })
  // One side panel at a time: the canvas keeps its room.
  for (const panel of panels) {
    panel.onToggle((open) => {
      if (!open || !outlineOpen) return
      outlineOpen = false
      applyOutline()
    })
  }
  applyOutline()

  let announcedReadOnly: ReadOnlyReason = null
  const applyReadOnly = (): void => {
    const reason = readOnlyReason()
    layout.classList.toggle('read-only', reason !== null)
    readOnlyBadge.hidden = reason === null
    readOnlyBadge.textContent = t('board.readOnly')
    status.setReadOnly(reason)
    toolbar.update()
    tools.update()
    handles.schedule()
    strip.render()
    agendaPanel.render()
    if (reason !== null && !ctx.canEdit()) {
      notes.stopEditing()
      clusters.stopEditing()
      shapes.stopEditing()
      frames.stopEditing()
    }
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
      await clearCachedBoards()
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
      fitAll()
    } else if (viewport.contains(target) || target === document.body) {
      handled = locks.handleKey(e) || (kindView?.handleKey?.(e) ?? false) || tools.handleKey(e) || silent.handleKey(e) || notes.handleKey(e) || clusters.handleKey(e) || ops.handleKey(e)
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
  canvas.onChangeEvery(ZOOM_LABEL_MS, () => status.setZoom(canvas.view.scale))
  const offSync = sync.on(() => {
    applyReadOnly()
    if (sync.connection === 'revoked' || sync.connection === 'deleted') notes.stopEditing()
  })
  let fitted = false
  const fitOnce = (): void => {
    if (fitted || !sync.synced) return
    fitted = true
    // The layers draw what the first sync brought on the next frame: fit once they have.
    requestAnimationFrame(() => { if (!left) fitAll() })
    // The first editor of a new board writes the schema version.
    if (ctx.canEdit() && !metaOf(doc).has(META.schema)) {
      doc.transact(() => {
        metaOf(doc).set(META.schema, SCHEMA_VERSION)
        metaOf(doc).set(META.kind, board.kind)
      }, 'atelier-setup')
    }
  }
  const offFit = sync.on(fitOnce)
  // Opened from this device's copy while the server did not answer: once it does, take its
  // word for the board (title, archived) and our role.
  let refreshed = !offline || session.kind !== 'user'
  const offRefresh = sync.on(() => {
    if (refreshed || sync.connection !== 'connected' || session.kind !== 'user') return
    refreshed = true
    fetchAccess(board.id).then((fresh) => {
      if (left) return
      board = fresh.board
      role = fresh.role
      rememberBoard(session.user.id, { ...fresh, openedAt: Date.now() })
      layout.classList.toggle('facilitator', facilitates(role as ProjectRole))
      labels()
    }).catch(() => { refreshed = false })
  })
  canvas.fit(null)
  // The offline copy (if any) shows something at once; the server's state refits once synced.
  sync.persistence?.whenSynced.then(() => { if (!fitted) fitAll() }).catch(() => {})
  // Every layer exists now: arrows follow items of any layer, and all of them stack by z.
  shapes.watchLayers()
  stacking.watch()
  locks.watch()
  const offLang = onLanguageChange(labels)
  labels()
  if (facilitates(role as ProjectRole)) layout.classList.add('facilitator')
  viewport.focus({ preventScroll: true })

  const teardown = (): void => {
    offLang()
    offSync()
    offFit()
    offRefresh()
    document.removeEventListener('keydown', onKey)
    offRules()
    clearTimeout(toastTimer)
    kindView?.destroy()
    silent.destroy()
    versionsPanel.destroy()
    agendaPanel.destroy()
    strip.destroy()
    timerDisplay.destroy()
    locks.destroy()
    rules.destroy()
    presence.destroy()
    follow.destroy()
    minimap.destroy()
    outline.destroy()
    organise.destroy()
    clipboard.destroy()
    clusters.destroy()
    notes.destroy()
    voting.destroy()
    tools.destroy()
    handles.destroy()
    stacking.destroy()
    for (const layer of [strokes, shapes, frames]) layer.destroy()
    images.destroy()
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
