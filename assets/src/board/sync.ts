// The connection of one board: the Yjs document, the stock y-websocket provider, the offline
// cache (y-indexeddb, signed-in users only), the saved extension (message type 90) and the
// y-protocols permission-denied answer that makes a connection read-only.

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence, clearDocument } from 'y-indexeddb'
import * as authProtocol from 'y-protocols/auth'
import * as decoding from 'lib0/decoding'
import type * as encoding from 'lib0/encoding'
import { forgetDevice, pendingOf, rememberPending } from '../device'

/** The origin of every change made through this UI (Y.UndoManager tracks only these). */
export const LOCAL = Symbol('atelier-local')

/** Type of the saved extension's messages (README: protocol contract). */
export const MESSAGE_SAVED = 90
const SAVED_OPT_IN = Uint8Array.of(MESSAGE_SAVED, 0)
const MESSAGE_AUTH = 2
const MESSAGE_SYNC = 0
/** y-protocols' sync step 1 (a state vector: what the sender has). */
const SYNC_STEP1 = 0

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'revoked' | 'deleted'
/** idle: nothing written in this session; pending: written, not confirmed; saved: confirmed. */
export type SavedState = 'idle' | 'pending' | 'saved'

const CACHE_PREFIX = 'atelier-board:'

/** Name of the offline copy of a board, per user (a shared browser never mixes accounts). */
export function cacheName (userId: string, boardId: string): string {
  return `${CACHE_PREFIX}${userId}:${boardId}`
}

/** Deletes every offline copy of boards on this device, and the records that go with them
 * (sign-out). */
export async function clearCachedBoards (): Promise<void> {
  forgetDevice()
  try {
    const dbs = await indexedDB.databases()
    await Promise.all(dbs.filter((d) => d.name?.startsWith(CACHE_PREFIX)).map((d) => clearDocument(d.name as string)))
  } catch { /* no IndexedDB (private mode): nothing cached */ }
}

/** Deletes the offline copy of one board (the board is gone, or no longer ours). */
export async function clearCachedBoard (userId: string, boardId: string): Promise<void> {
  try { await clearDocument(cacheName(userId, boardId)) } catch { /* nothing cached */ }
}

type Listener = () => void

export interface BoardSyncOptions {
  boardId: string
  token: string
  /** Offline copy name, or null for none (guests: their device keeps nothing). */
  cache: string | null
  /** The server did not answer just now (the board opened from this device's copy): say
   * "offline" until a connection succeeds rather than "connecting". */
  unreachable?: boolean
}

export class BoardSync {
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  readonly persistence: IndexeddbPersistence | null
  connection: ConnectionState = 'connecting'
  saved: SavedState = 'idle'
  /** True once the server refused one of our updates (permission denied). */
  denied = false
  /**
   * The last change of ours the server reverted under the facilitation rules (a locked item,
   * board settings, what the phase allows): the board stays editable, everyone already
   * converged to the revert. `seq` grows with each one.
   */
  reverted: { reason: string, seq: number } | null = null
  /** True once the document holds the server's state (first sync step 2). */
  synced = false
  /** Committed clocks by Yjs client id, from the server's saved messages. */
  private readonly committed = new Map<number, number>()
  /**
   * Besides our own clock, what must be committed for our edits to be saved: the edits of earlier
   * visits kept in this device's copy (other client ids of ours), client id → clock. Known from
   * the server's sync step 1 (what it lacks of our copy) or, until it answers, from what the last
   * visit left unconfirmed.
   */
  private readonly earlier = new Map<number, number>()
  private everConnected = false
  private listeners = new Set<Listener>()
  private destroyed = false
  /** The device lost or regained its network: close the socket at once (edits stay local and
   * are sent on reconnection) rather than wait for it to time out; reconnect when back. */
  private readonly onNetwork = (): void => {
    if (this.connection === 'revoked' || this.connection === 'deleted') return
    if (navigator.onLine) {
      if (!this.provider.shouldConnect) this.provider.connect()
    } else if (this.provider.shouldConnect) {
      this.provider.disconnect()
    }
    this.recompute()
  }

  constructor (private readonly opts: BoardSyncOptions) {
    if (opts.unreachable) this.connection = 'offline'
    const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
    this.provider = new WebsocketProvider(ws, opts.boardId, this.doc, {
      params: { token: opts.token },
      connect: false
    })
    this.provider.messageHandlers[MESSAGE_SAVED] = (_encoder: encoding.Encoder, decoder: decoding.Decoder) => {
      this.onSaved(decoding.readVarUint8Array(decoder))
    }
    const syncHandler = this.provider.messageHandlers[MESSAGE_SYNC]
    this.provider.messageHandlers[MESSAGE_SYNC] = (encoder, decoder, provider, emitSynced, messageType) => {
      this.peekServerState(decoder)
      syncHandler(encoder, decoder, provider, emitSynced, messageType)
    }
    if (opts.cache) for (const [id, clock] of pendingOf(opts.cache)) this.earlier.set(id, clock)
    this.provider.messageHandlers[MESSAGE_AUTH] = (_encoder: encoding.Encoder, decoder: decoding.Decoder) => {
      authProtocol.readAuthMessage(decoder, this.doc, (_doc: Y.Doc, reason: string) => {
        if (reason.startsWith('reverted:')) {
          this.reverted = { reason, seq: (this.reverted?.seq ?? 0) + 1 }
        } else {
          this.denied = true
        }
        this.emit()
      })
    }
    this.provider.on('status', ({ status }) => {
      if (status === 'connected') {
        this.everConnected = true
        const socket = this.provider.ws
        // After the provider's own opening messages (sync step 1, presence).
        queueMicrotask(() => {
          if (socket && this.provider.ws === socket && socket.readyState === WebSocket.OPEN) socket.send(SAVED_OPT_IN)
        })
      }
      this.recompute()
    })
    this.provider.on('sync', (synced: boolean) => {
      if (synced) this.synced = true
      this.emit()
    })
    this.provider.on('closed', (event: { code: number }) => {
      this.connection = event.code === 4404 ? 'deleted' : 'revoked'
      this.emit()
    })
    this.doc.on('update', () => this.recomputeSaved())
    window.addEventListener('online', this.onNetwork)
    window.addEventListener('offline', this.onNetwork)

    if (opts.cache) {
      this.persistence = new IndexeddbPersistence(opts.cache, this.doc)
      // Load the offline copy first so the first sync sends only what the server lacks; never
      // wait long for it (a blocked IndexedDB must not keep the board offline).
      const start = (): void => { if (!this.destroyed && navigator.onLine) this.provider.connect() }
      Promise.race([this.persistence.whenSynced, new Promise((resolve) => setTimeout(resolve, 1500))]).then(start, start)
    } else {
      this.persistence = null
      if (navigator.onLine) this.provider.connect()
    }
  }

  get awareness () { return this.provider.awareness }

  /** Our Yjs client's clock: how many items we have written. */
  localClock (): number {
    return Y.decodeStateVector(Y.encodeStateVector(this.doc)).get(this.doc.clientID) ?? 0
  }

  on (fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private emit (): void {
    for (const fn of this.listeners) fn()
  }

  private onSaved (payload: Uint8Array): void {
    let clocks: Map<number, number>
    try {
      clocks = Y.decodeStateVector(payload)
    } catch {
      return
    }
    for (const [id, clock] of clocks) if (clock > (this.committed.get(id) ?? 0)) this.committed.set(id, clock)
    this.recomputeSaved()
  }

  /** The server's sync step 1 says what it has: whatever our copy holds beyond it is ours to
   * send (the provider answers with it) and to see confirmed. */
  private peekServerState (decoder: decoding.Decoder): void {
    try {
      const peek = decoding.createDecoder(decoder.arr)
      peek.pos = decoder.pos
      if (decoding.readVarUint(peek) !== SYNC_STEP1) return
      const server = Y.decodeStateVector(decoding.readVarUint8Array(peek))
      this.earlier.clear()
      for (const [id, clock] of Y.decodeStateVector(Y.encodeStateVector(this.doc))) {
        if (id !== this.doc.clientID && clock > (server.get(id) ?? 0)) this.earlier.set(id, clock)
      }
      this.recomputeSaved()
    } catch { /* malformed: the provider's own handler reports it */ }
  }

  /** The edits not yet confirmed (client id → clock). */
  private unconfirmed (): Array<[number, number]> {
    const out: Array<[number, number]> = []
    const local = this.localClock()
    if (local > (this.committed.get(this.doc.clientID) ?? 0)) out.push([this.doc.clientID, local])
    for (const [id, clock] of this.earlier) if ((this.committed.get(id) ?? 0) < clock) out.push([id, clock])
    return out
  }

  private recomputeSaved (): void {
    const pending = this.unconfirmed()
    const next: SavedState = pending.length ? 'pending' : this.localClock() === 0 && this.earlier.size === 0 ? 'idle' : 'saved'
    if (next !== this.saved) {
      this.saved = next
      // Remembered so that a visit that opens this copy offline knows it holds unsent edits.
      if (this.opts.cache && !this.destroyed) rememberPending(this.opts.cache, next === 'pending' ? pending : null)
      this.emit()
    }
  }

  private recompute (): void {
    if (this.connection === 'revoked' || this.connection === 'deleted') return
    const p = this.provider
    let next: ConnectionState
    if (!navigator.onLine) next = 'offline'
    else if (p.wsconnected) next = 'connected'
    else if (!this.everConnected) next = p.wsUnsuccessfulReconnects > 3 || this.opts.unreachable === true ? 'offline' : 'connecting'
    else next = p.wsUnsuccessfulReconnects > 3 ? 'offline' : 'reconnecting'
    if (next !== this.connection) {
      this.connection = next
      this.emit()
    }
  }

  /** Leaves the board: presence goodbye, socket closed; `forget` also deletes the offline copy. */
  async destroy ({ forget = false } = {}): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    window.removeEventListener('online', this.onNetwork)
    window.removeEventListener('offline', this.onNetwork)
    this.listeners.clear()
    if (this.opts.cache) rememberPending(this.opts.cache, forget || this.denied ? null : this.unconfirmed())
    this.provider.destroy()
    if (this.persistence) {
      if (forget || this.denied) await this.persistence.clearData()
      else await this.persistence.destroy()
    }
    this.doc.destroy()
    if (forget && this.opts.cache) await clearDocument(this.opts.cache).catch(() => {})
  }
}
