// The status bar: the connection state, always visible (connecté / hors ligne / reconnexion…),
// whether one's changes are saved ("enregistré" only once the server's saved message covers
// our clock), read-only mode, and the zoom level.

import { h } from '../dom'
import { t, type MessageKey } from '../i18n'
import type { BoardSync, ConnectionState, SavedState } from './sync'

const CONNECTION_KEYS: Record<ConnectionState, MessageKey> = {
  connecting: 'status.connecting',
  connected: 'status.connected',
  reconnecting: 'status.reconnecting',
  offline: 'status.offline',
  revoked: 'status.revoked',
  deleted: 'status.deleted'
}

const SAVED_KEYS: Record<SavedState, MessageKey> = {
  idle: 'status.savedIdle',
  pending: 'status.savedPending',
  saved: 'status.saved'
}

export type ReadOnlyReason = null | 'viewer' | 'archived' | 'denied'

export class StatusBar {
  readonly el: HTMLElement
  private readonly connection: HTMLElement
  private readonly saved: HTMLElement
  private readonly readOnly: HTMLElement
  private readonly zoom: HTMLElement
  /** Shown when the server refused our changes: reloading drops them and shows the board as stored. */
  readonly reload: HTMLButtonElement
  private reason: ReadOnlyReason = null
  private zoomLevel = 1
  /** Why the server last reverted one of our changes, shown for a few seconds. */
  private readonly notice: HTMLElement
  private noticeSeq = 0
  private noticeTimer = 0

  constructor (private readonly sync: BoardSync) {
    this.connection = h('span', { class: 'status-connection', role: 'status', 'aria-live': 'polite' })
    this.saved = h('span', { class: 'status-saved' })
    this.readOnly = h('span', { class: 'status-readonly', role: 'status' })
    this.zoom = h('span', { class: 'status-zoom' })
    this.reload = h('button', { type: 'button', class: 'secondary status-reload' })
    this.notice = h('span', { class: 'status-notice', role: 'status', 'aria-live': 'polite', hidden: '' })
    this.el = h('footer', { class: 'status-bar' }, this.connection, this.saved, this.readOnly, this.notice, this.reload, this.zoom)
    sync.on(() => this.render())
    this.render()
  }

  setReadOnly (reason: ReadOnlyReason): void {
    this.reason = reason
    this.render()
  }

  setZoom (scale: number): void {
    this.zoomLevel = scale
    // Follows the moving view (every 100 ms): touch the DOM only when the text changes (a text
    // change costs a layout).
    const text = t('status.zoom', { pct: Math.round(scale * 100) })
    if (this.zoom.textContent !== text) this.zoom.textContent = text
  }

  render (): void {
    const c = this.sync.connection
    this.connection.dataset.state = c
    const text = t(CONNECTION_KEYS[c])
    if (this.connection.textContent !== text) this.connection.textContent = text
    const s = this.sync.saved
    this.saved.dataset.state = s
    // Someone who cannot write has nothing to save.
    this.saved.hidden = s === 'idle' && this.reason !== null
    // Offline with unsaved changes: they are kept locally and sent on reconnection.
    this.saved.textContent = s === 'pending' && this.reason === 'denied'
      ? t('status.savedRefused')
      : s === 'pending' && c !== 'connected' ? t('status.savedLocal') : t(SAVED_KEYS[s])
    this.readOnly.hidden = this.reason === null
    this.readOnly.textContent = this.reason === null ? '' : t(`status.readOnly.${this.reason}`)
    this.reload.hidden = this.reason !== 'denied'
    this.reload.textContent = t('status.reload')
    this.showReverted()
    this.setZoom(this.zoomLevel)
  }

  /** A change of ours the server reverted (facilitation rules): say why, for a few seconds. */
  private showReverted (): void {
    const r = this.sync.reverted
    if (r === null || r.seq === this.noticeSeq) return
    this.noticeSeq = r.seq
    const key: MessageKey = r.reason.includes('locked')
      ? 'status.reverted.locked'
      : r.reason.includes('phase') ? 'status.reverted.phase' : 'status.reverted.settings'
    this.notice.textContent = t(key)
    this.notice.hidden = false
    window.clearTimeout(this.noticeTimer)
    this.noticeTimer = window.setTimeout(() => { this.notice.hidden = true }, 6000)
  }
}
