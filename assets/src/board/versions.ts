// The versions of a board, for facilitators (REST: GET|POST /boards/{id}/versions,
// GET .../versions/{vid}; docs/access.md): the server keeps one at each change of phase
// (label `phase:<id>`, shown as "Changement de phase : <title>") and one whenever a facilitator
// asks ("Garder une version", with a label). Each can be looked at, read-only, over the board
// (snapshot.ts: the version's document loaded into a fresh Y.Doc that is never connected), or
// downloaded as the Yjs update the server keeps (any Yjs client loads it).

import * as Y from 'yjs'
import { api, ApiError, type BoardVersion, type Member } from '../api'
import { announce, h } from '../dom'
import { lang, t } from '../i18n'
import { currentSession } from '../session'
import { errorText } from '../pages/common'
import type { BoardContext } from './context'
import { phaseTitle, type FacilitationRules } from './facilitation'
import { icon } from './icons'
import type { ImageStore } from './images'
import { SidePanel } from './panel'
import { readPhases, metaOf } from './schema'
import { renderSnapshot } from './snapshot'

const PHASE_PREFIX = 'phase:'
/** After a change of phase, the server's new version is listed once its commit is done. */
const REFRESH_AFTER_PHASE_MS = 700

export interface VersionsOptions {
  boardId: string
  boardTitle: () => string
  projectId: string | null
  /** Where the read-only view of a version goes (over the canvas and the panels). */
  host: HTMLElement
  images: ImageStore
}

export class VersionsPanel {
  readonly panel: SidePanel
  private readonly hint: HTMLElement
  private readonly form: HTMLFormElement
  private readonly labelInput: HTMLInputElement
  private readonly labelText: HTMLElement
  private readonly keepButton: HTMLButtonElement
  private readonly refreshButton: HTMLButtonElement
  private readonly listHeading: HTMLElement
  private readonly list: HTMLUListElement
  private readonly message: HTMLElement
  private versions: BoardVersion[] | null = null
  private members: Map<string, string> | null = null
  private loading = false
  private lastPhase: string | null
  private phaseTimer = 0
  private preview: { close: () => void } | null = null
  private readonly cleanups: Array<() => void> = []

  constructor (private readonly ctx: BoardContext, private readonly rules: FacilitationRules, private readonly opts: VersionsOptions, group: SidePanel[]) {
    this.panel = new SidePanel('versions-panel', 'versions.panel', 'history', group)
    this.hint = h('p', { class: 'hint' })
    this.labelInput = h('input', { type: 'text', id: 'version-label', maxlength: 200, autocomplete: 'off', required: true })
    this.labelText = h('label', { for: 'version-label' })
    this.keepButton = h('button', { type: 'submit' })
    this.form = h('form', { class: 'versions-keep' }, h('div', { class: 'field' }, this.labelText, this.labelInput), this.keepButton)
    this.form.addEventListener('submit', (e) => { e.preventDefault(); void this.keep() })
    this.refreshButton = h('button', { type: 'button', class: 'secondary versions-refresh' })
    this.refreshButton.addEventListener('click', () => { void this.load() })
    this.listHeading = h('h3', {})
    this.list = h('ul', { class: 'versions-list' })
    this.message = h('p', { class: 'versions-message', role: 'status' })
    this.panel.body.append(this.hint, this.form,
      h('div', { class: 'versions-head' }, this.listHeading, this.refreshButton), this.message, this.list)
    this.lastPhase = rules.currentId
    this.cleanups.push(this.panel.onToggle((open) => { if (open) void this.load() }))
    this.cleanups.push(rules.onMetaChange(() => {
      if (rules.currentId === this.lastPhase) return
      this.lastPhase = rules.currentId
      clearTimeout(this.phaseTimer)
      if (this.panel.open) this.phaseTimer = window.setTimeout(() => { void this.load() }, REFRESH_AFTER_PHASE_MS)
    }))
    this.render()
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    clearTimeout(this.phaseTimer)
    this.preview?.close()
  }

  relabel (): void {
    this.panel.relabel()
    this.render()
  }

  private async load (): Promise<void> {
    if (this.loading) return
    this.loading = true
    this.say(t('common.loading'), false)
    try {
      const [versions] = await Promise.all([api.versions(this.opts.boardId), this.loadMembers()])
      this.versions = versions
      this.say('', false)
    } catch (err) {
      this.say(errorText(err), true)
    } finally {
      this.loading = false
      this.render()
    }
  }

  /** Names of the project's members (authors of versions), once. */
  private async loadMembers (): Promise<void> {
    if (this.members || !this.opts.projectId) return
    try {
      const list: Member[] = await api.members(this.opts.projectId)
      this.members = new Map(list.map((m) => [m.user_id, m.display_name]))
    } catch { /* authors then show as unknown */ }
  }

  private async keep (): Promise<void> {
    const label = this.labelInput.value.trim()
    if (label === '') {
      this.say(t('versions.labelNeeded'), true)
      this.labelInput.focus()
      return
    }
    this.keepButton.disabled = true
    try {
      const v = await api.keepVersion(this.opts.boardId, label.slice(0, 200))
      this.labelInput.value = ''
      this.versions = [...(this.versions ?? []).filter((x) => x.id !== v.id), v]
      this.render()
      this.say(t('versions.kept', { label: v.label }), false)
      announce(t('versions.kept', { label: v.label }))
    } catch (err) {
      this.say(errorText(err), true)
    } finally {
      this.keepButton.disabled = false
    }
  }

  private say (text: string, error: boolean): void {
    this.message.textContent = text
    this.message.classList.toggle('error', error)
    this.message.hidden = text === ''
  }

  /** How a version is called: its label, or "Changement de phase : <title>". */
  labelOf (v: BoardVersion, doc: Y.Doc | null = null): string {
    if (!v.label.startsWith(PHASE_PREFIX)) return v.label
    const id = v.label.slice(PHASE_PREFIX.length)
    const phases = doc ? readPhases(metaOf(doc)) : this.rules.phases
    const index = phases.findIndex((p) => p.id === id)
    return index >= 0 ? t('versions.phase', { title: phaseTitle(phases[index], index) }) : t('versions.phaseUnknown')
  }

  private authorOf (v: BoardVersion): string {
    const [kind, id] = v.created_by.includes(':') ? [v.created_by.slice(0, v.created_by.indexOf(':')), v.created_by.slice(v.created_by.indexOf(':') + 1)] : ['', v.created_by]
    const session = currentSession()
    if (kind === 'user' && session?.kind === 'user' && session.user.id === id) return t('versions.you')
    if (kind === 'user') return this.members?.get(id) ?? t('versions.someone')
    if (kind === 'guest') return t('versions.guest')
    return t('versions.someone')
  }

  private render (): void {
    const facilitator = this.ctx.facilitator()
    this.panel.toggle.hidden = !facilitator
    if (!facilitator) this.panel.show(false)
    this.hint.textContent = t('versions.hint')
    this.labelText.textContent = t('versions.label')
    this.labelInput.placeholder = t('versions.labelPlaceholder')
    this.keepButton.textContent = t('versions.keep')
    this.refreshButton.replaceChildren(icon('refresh'), h('span', {}, t('versions.refresh')))
    this.listHeading.textContent = t('versions.list')
    const versions = [...(this.versions ?? [])].sort((a, b) => b.created_at - a.created_at)
    if (this.versions && versions.length === 0) {
      this.list.replaceChildren(h('li', { class: 'hint' }, t('versions.none')))
      return
    }
    const format = new Intl.DateTimeFormat(lang() === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' })
    this.list.replaceChildren(...versions.map((v) => {
      const label = this.labelOf(v)
      const view = h('button', { type: 'button', class: 'secondary', 'aria-label': t('versions.viewLabel', { label }) }, icon('view'), h('span', {}, t('versions.view')))
      const download = h('button', { type: 'button', class: 'secondary', 'aria-label': t('versions.downloadLabel', { label }) }, icon('download'), h('span', {}, t('versions.download')))
      view.addEventListener('click', () => { void this.open(v, view) })
      download.addEventListener('click', () => { void this.download(v, download) })
      return h('li', { class: 'version', 'data-version-id': v.id, 'data-phase': String(v.label.startsWith(PHASE_PREFIX)) },
        h('div', { class: 'version-label' }, label),
        h('div', { class: 'version-meta' },
          h('time', { datetime: new Date(v.created_at).toISOString() }, format.format(new Date(v.created_at))),
          ` · ${this.authorOf(v)} · ${sizeText(v.bytes)}`),
        h('div', { class: 'version-actions' }, view, download))
    }))
  }

  // ---- reading a version -------------------------------------------------------------------

  private async fetchVersion (v: BoardVersion): Promise<Uint8Array> {
    const token = currentSession()?.token
    let res: Response
    try {
      res = await fetch(`/api/v1/boards/${encodeURIComponent(this.opts.boardId)}/versions/${encodeURIComponent(v.id)}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        credentials: 'omit',
        cache: 'no-store'
      })
    } catch {
      throw new ApiError(0, 'network', 'network error')
    }
    if (!res.ok) throw new ApiError(res.status, 'http', `HTTP ${res.status}`)
    return new Uint8Array(await res.arrayBuffer())
  }

  private async download (v: BoardVersion, button: HTMLButtonElement): Promise<void> {
    button.disabled = true
    try {
      const bytes = await this.fetchVersion(v)
      const url = URL.createObjectURL(new Blob([bytes.slice().buffer], { type: 'application/octet-stream' }))
      const a = h('a', { href: url, download: fileName(this.opts.boardTitle(), this.labelOf(v), v.created_at), hidden: true })
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
      announce(t('versions.downloaded'))
    } catch (err) {
      this.say(errorText(err), true)
    } finally {
      button.disabled = false
    }
  }

  /** Shows a version read-only over the board, until closed (Escape, the close button). */
  private async open (v: BoardVersion, opener: HTMLButtonElement): Promise<void> {
    opener.disabled = true
    let doc: Y.Doc
    try {
      const bytes = await this.fetchVersion(v)
      doc = new Y.Doc()
      Y.applyUpdate(doc, bytes)
    } catch (err) {
      this.say(err instanceof ApiError ? errorText(err) : t('versions.unreadable'), true)
      opener.disabled = false
      return
    }
    opener.disabled = false
    this.preview?.close()
    const label = this.labelOf(v, doc)
    const when = new Intl.DateTimeFormat(lang() === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(v.created_at))
    const viewport = h('div', { class: 'snapshot-canvas', tabindex: '0', role: 'img' })
    const close = h('button', { type: 'button', class: 'secondary' }, icon('close'), h('span', {}, t('versions.close')))
    const fitButton = h('button', { type: 'button', class: 'tool', title: t('toolbar.fit') }, icon('fit'), h('span', { class: 'visually-hidden' }, t('toolbar.fit')))
    const download = h('button', { type: 'button', class: 'secondary' }, icon('download'), h('span', {}, t('versions.download')))
    const titleId = 'snapshot-title'
    const dialog = h('div', { class: 'snapshot', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
      h('div', { class: 'snapshot-bar' },
        h('div', { class: 'snapshot-heading' },
          h('h2', { id: titleId }, label),
          h('p', { class: 'snapshot-sub' }, `${when} · ${t('versions.readOnly')}`)),
        h('div', { class: 'snapshot-actions' }, fitButton, download, close)),
      viewport)
    this.opts.host.append(dialog)
    const shown = renderSnapshot(viewport, doc, this.opts.images)
    viewport.setAttribute('aria-label', t('versions.snapshotLabel', { label, n: shown.count }))
    const done = (): void => {
      shown.destroy()
      doc.destroy()
      dialog.remove()
      document.removeEventListener('keydown', onKey, true)
      this.preview = null
      if (opener.isConnected) opener.focus()
    }
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') {
        e.preventDefault()
        e.stopPropagation()
        done()
      } else if (e.key === 'Tab') {
        // Focus stays in the dialog.
        const stops: HTMLElement[] = [viewport, fitButton, download, close]
        const i = stops.indexOf(document.activeElement as HTMLElement)
        e.preventDefault()
        stops[(i + (e.shiftKey ? stops.length - 1 : 1) + stops.length) % stops.length].focus()
      } else {
        // The board under it takes no keys meanwhile (Delete would act on its selection).
        e.stopPropagation()
      }
    }
    document.addEventListener('keydown', onKey, true)
    close.addEventListener('click', done)
    fitButton.addEventListener('click', () => shown.fit())
    download.addEventListener('click', () => { void this.download(v, download) })
    this.preview = { close: done }
    close.focus()
    announce(t('versions.opened', { label }))
  }
}

function sizeText (bytes: number): string {
  if (bytes < 1024) return t('versions.bytes', { n: bytes })
  const kb = bytes / 1024
  if (kb < 1024) return t('versions.kb', { n: Math.round(kb) })
  return t('versions.mb', { n: (kb / 1024).toFixed(1) })
}

/** "atelier-mobilites-changement-de-phase-regroupement-2026-11-25-1432.bin" */
function fileName (board: string, label: string, at: number): string {
  const slug = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60)
  const d = new Date(at)
  const pad = (n: number): string => String(n).padStart(2, '0')
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}`
  return `${[slug(board), slug(label), stamp].filter(Boolean).join('-')}.bin`
}
