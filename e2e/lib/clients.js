// Stock Yjs clients (yjs + y-websocket's WebsocketProvider over the `ws` package) for the tests.
//
//   const c = createClient(server, boardId, { token })   // a real login or guest token
//   await c.synced()                                   // provider reported synced (bounded)
//   c.doc.getMap('notes').set('n1', { x: 1, y: 2 })
//   await c.waitFor((c) => c.doc.getMap('notes').size === 8, { what: '8 notes' })
//   c.destroy()
//
// Only public y-websocket API is used, plus two things the brief allows: replacing
// `provider.messageHandlers` (wrapped to count message types; type 90 handled here) and reaching
// the raw socket as `provider.ws` (to send the saved opt-in or to terminate abruptly).

import assert from 'node:assert/strict'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import * as decoding from 'lib0/decoding'
import { waitFor, withTimeout, truncate, canonicalJson } from './util.js'

export { Y }

/** y-websocket's awareness message type. */
export const MESSAGE_AWARENESS = 1
/** y-protocols' auth message type (the server sends permission-denied to read-only connections). */
export const MESSAGE_AUTH = 2
/** Message type of the saved (commit acknowledgement) extension. */
export const MESSAGE_SAVED = 90
/** The opt-in a client sends: varUint 90, then an empty varUint-length-prefixed payload. */
export const SAVED_OPT_IN = Uint8Array.of(0x5a, 0x00)

/** Everything the tests compare: the JSON of the shared types the tests use. */
export function snapshot (doc) {
  return {
    notes: doc.getMap('notes').toJSON(),
    text: doc.getText('text').toString(),
    props: doc.getMap('props').toJSON(),
    log: doc.getArray('log').toJSON()
  }
}

/** State vector of a doc as Map<clientID, clock>. */
export function stateVector (doc) {
  return Y.decodeStateVector(Y.encodeStateVector(doc))
}

/**
 * Decodes the payload of a type-90 message strictly: varUint count, then count × (clientID, clock),
 * nothing after. Returns Map<clientID, clock>; throws on malformed input.
 */
export function decodeSavedPayload (payload) {
  const decoder = decoding.createDecoder(payload)
  const count = decoding.readVarUint(decoder)
  const clocks = new Map()
  for (let i = 0; i < count; i++) {
    const client = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    if (clocks.has(client)) throw new Error(`client ${client} appears twice in a saved state vector`)
    clocks.set(client, clock)
  }
  if (decoding.hasContent(decoder)) {
    throw new Error(`${payload.length - decoder.pos} trailing bytes after the saved state vector`)
  }
  return clocks
}

let clientCounter = 0

export class TestClient {
  /**
   * @param {string} wsUrl base url, e.g. ws://127.0.0.1:PORT/ws
   * @param {string} boardId
   * @param {object} [opts]
   * @param {string} opts.token bearer token (login or guest) sent as `?token=`
   * @param {string} [opts.name] label for error messages
   * @param {boolean} [opts.saved] opt in to message 90 on every connection (default false; when
   *   false, any type-90 message received is recorded in `unexpectedSaved`)
   * @param {boolean} [opts.connect] connect right away (default true)
   * @param {Y.Doc} [opts.doc] use this doc instead of a fresh one
   */
  constructor (wsUrl, boardId, { token, name, saved = false, connect = true, doc } = {}) {
    this.name = name ?? `client${++clientCounter}`
    if (typeof token !== 'string' || token.length === 0) {
      throw new Error(`${this.name}: a token is required (h.client(server, board, { as: 'alice' }) or { token })`)
    }
    this.token = token
    this.boardId = boardId
    this.doc = doc ?? new Y.Doc()
    this.optedIn = saved
    this.destroyed = false

    /** 'status' events in order: { status, at } */
    this.statusLog = []
    /** 'connection-close' events caused by the server/network: { code, reason, at } */
    this.closeEvents = []
    /** 'closed' events: the provider gave up for good after a 44xx close: { code, reason, at } */
    this.finalCloses = []
    /** 'connection-error' events (e.g. a refused upgrade): { message, at } */
    this.connectionErrors = []
    /** y-protocols auth messages received: { permission (0 = denied), reason, at } */
    this.authMessages = []
    /** messages received, by type */
    this.received = new Map()
    /** message types that had no handler */
    this.unknownTypes = []
    /** type-90 messages (when opted in): { at, clocks: Map<clientID, clock> } */
    this.savedMessages = []
    /** malformed type-90 messages: Error[] */
    this.savedErrors = []
    /** type-90 messages received although this client never opted in: Uint8Array payloads */
    this.unexpectedSaved = []
    /** doc updates applied from the network */
    this.remoteUpdates = 0
    /** every awareness entry received: { clientID, clock, state, at } (state null = removed) */
    this.awarenessEntries = []

    this.provider = new WebsocketProvider(wsUrl, boardId, this.doc, {
      WebSocketPolyfill: WebSocket,
      params: { token },
      connect: false,
      // Without this, providers in the same process for the same board would sync through a
      // BroadcastChannel and hide what the server does (and keep the event loop alive).
      disableBc: true
    })
    this.awareness = this.provider.awareness

    this._installMessageHooks()

    this.provider.on('status', ({ status }) => {
      this.statusLog.push({ status, at: Date.now() })
      if (status === 'connected' && this.optedIn) {
        // Sent right after the provider's own on-open messages (sync step 1, awareness).
        const ws = this.provider.ws
        queueMicrotask(() => {
          if (!this.destroyed && ws && this.provider.ws === ws && ws.readyState === WebSocket.OPEN) {
            ws.send(SAVED_OPT_IN)
          }
        })
      }
    })
    this.provider.on('connection-close', (event) => {
      if (event) this.closeEvents.push({ code: event.code, reason: event.reason, at: Date.now() })
    })
    this.provider.on('closed', (event) => {
      this.finalCloses.push({ code: event?.code, reason: event?.reason, at: Date.now() })
    })
    this.provider.on('connection-error', (event) => {
      this.connectionErrors.push({ message: event?.message ?? String(event?.type ?? event), at: Date.now() })
    })
    this.doc.on('update', (_update, origin) => {
      if (origin === this.provider) this.remoteUpdates++
    })

    if (connect) this.provider.connect()
  }

  _installMessageHooks () {
    const client = this
    this.provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
      const payload = decoding.readVarUint8Array(decoder)
      if (!client.optedIn) {
        client.unexpectedSaved.push(payload)
        return
      }
      try {
        if (decoding.hasContent(decoder)) throw new Error('trailing bytes after the saved payload')
        client.savedMessages.push({ at: Date.now(), clocks: decodeSavedPayload(payload) })
      } catch (err) {
        client.savedErrors.push(err)
      }
    }
    // Count every message type and record the ones without a handler (the stock provider would
    // only console.error them). Assignments such as `messageHandlers[90] = fn` still work.
    const handlers = this.provider.messageHandlers
    this.provider.messageHandlers = new Proxy(handlers, {
      get (target, prop, receiver) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) {
          const type = Number(prop)
          const handler = target[type]
          return (encoder, decoder, provider, emitSynced, messageType) => {
            client.received.set(type, (client.received.get(type) ?? 0) + 1)
            if (type === MESSAGE_AWARENESS) client._recordAwareness(decoder)
            if (type === MESSAGE_AUTH) client._recordAuth(decoder)
            if (typeof handler !== 'function') {
              client.unknownTypes.push(type)
              return
            }
            return handler(encoder, decoder, provider, emitSynced, messageType)
          }
        }
        return Reflect.get(target, prop, receiver)
      }
    })
  }

  /** Peeks at an awareness message (without consuming it) and records its entries. */
  _recordAwareness (decoder) {
    try {
      const peek = decoding.createDecoder(decoder.arr)
      peek.pos = decoder.pos
      const update = decoding.createDecoder(decoding.readVarUint8Array(peek))
      const count = decoding.readVarUint(update)
      const at = Date.now()
      for (let i = 0; i < count; i++) {
        const clientID = decoding.readVarUint(update)
        const clock = decoding.readVarUint(update)
        const state = JSON.parse(decoding.readVarString(update))
        this.awarenessEntries.push({ clientID, clock, state, at })
      }
    } catch { /* the stock handler will report malformed messages */ }
  }

  /** Peeks at a y-protocols auth message (without consuming it) and records it. */
  _recordAuth (decoder) {
    try {
      const peek = decoding.createDecoder(decoder.arr)
      peek.pos = decoder.pos
      const permission = decoding.readVarUint(peek)
      const reason = permission === 0 ? decoding.readVarString(peek) : undefined
      this.authMessages.push({ permission, reason, at: Date.now() })
    } catch (err) {
      this.authMessages.push({ permission: undefined, reason: `malformed auth message: ${err}`, at: Date.now() })
    }
  }

  /** Permission-denied messages received (auth message, permission 0). */
  get deniedCount () {
    return this.authMessages.filter((m) => m.permission === 0).length
  }

  /** Awareness entries received about `clientID` (default: this client's own, i.e. echoes). */
  awarenessAbout (clientID = this.doc.clientID) {
    return this.awarenessEntries.filter((e) => e.clientID === clientID)
  }

  get clientID () {
    return this.doc.clientID
  }

  /** Waits (bounded) until the provider is synced with the server. */
  async synced ({ timeout = 10_000 } = {}) {
    if (this.provider.synced) return
    await withTimeout(new Promise((resolve) => {
      const onSync = (state) => {
        if (state) {
          this.provider.off('sync', onSync)
          resolve()
        }
      }
      this.provider.on('sync', onSync)
      if (this.provider.synced) onSync(true)
    }), timeout, `${this.name} (board ${this.boardId}) to sync; status log ${JSON.stringify(this.statusLog.map((s) => s.status))}`)
  }

  /** Waits (bounded) until predicate(this) holds; the timeout error shows this client's content. */
  waitFor (predicate, { timeout = 10_000, what = 'a condition' } = {}) {
    return waitFor(() => predicate(this), {
      timeout,
      what: `${this.name}: ${what}`,
      describe: () => {
        const closes = this.closeEvents.length
          ? `\n  closed by the server ${this.closeEvents.length} time(s): ${truncate(this.closeEvents.map(({ code, reason }) => ({ code, reason })), 500)}`
          : ''
        return truncate(this.json(), 1500) + closes
      }
    })
  }

  json () {
    return snapshot(this.doc)
  }

  stateVector () {
    return stateVector(this.doc)
  }

  /** The doc's own clock for `clientID` (default: this doc's own client id). */
  localClock (clientID = this.doc.clientID) {
    return this.stateVector().get(clientID) ?? 0
  }

  /** Highest committed clock for `clientID` reported by type-90 messages so far (0 if none). */
  savedClock (clientID = this.doc.clientID) {
    let max = 0
    for (const { clocks } of this.savedMessages) {
      const clock = clocks.get(clientID)
      if (clock !== undefined && clock > max) max = clock
    }
    return max
  }

  /** How many 'status' events with this status (optionally: at or after `since`, a Date.now()). */
  statusCount (status, since = 0) {
    return this.statusLog.filter((s) => s.status === status && s.at >= since).length
  }

  /** A one-line summary of the connection history, for assertion messages. */
  history () {
    const t0 = this.statusLog[0]?.at ?? Date.now()
    return JSON.stringify({
      status: this.statusLog.map((s) => [s.status, s.at - t0]),
      closes: this.closeEvents.map((c) => [c.code, c.reason, c.at - t0]),
      final: this.finalCloses.map((c) => [c.code, c.reason]),
      errors: this.connectionErrors.length,
      auth: this.authMessages.map((m) => [m.permission, m.reason])
    })
  }

  get connected () {
    return this.provider.wsconnected
  }

  /** Remote awareness states (everyone but this client). */
  peerStates () {
    const out = new Map(this.awareness.getStates())
    out.delete(this.doc.clientID)
    return out
  }

  /**
   * Abrupt loss of the connection: no awareness goodbye, no close frame (the TCP socket is
   * destroyed), and no reconnect.
   */
  terminate () {
    this.provider.shouldConnect = false
    const ws = this.provider.ws
    if (ws) ws.terminate()
  }

  /** Clean WebSocket close (close frame) but without the provider's awareness goodbye. */
  closeWithoutGoodbye () {
    this.provider.shouldConnect = false
    const ws = this.provider.ws
    if (ws) ws.close(1000)
  }

  /** Stock shutdown: provider.destroy() (sends the awareness goodbye, closes), then the doc. */
  destroy () {
    if (this.destroyed) return
    this.destroyed = true
    try { this.provider.destroy() } catch { /* ignore */ }
    try { this.awareness.destroy() } catch { /* ignore */ }
    try { this.doc.destroy() } catch { /* ignore */ }
  }
}

/**
 * Creates a stock client. `server` is an AtelierServer (its current wsUrl is used) or a ws base
 * url string.
 */
export function createClient (server, boardId, opts) {
  const url = typeof server === 'string' ? server : server.wsUrl
  return new TestClient(url, boardId, opts)
}

/** Waits (bounded) until every client is synced. */
export function allSynced (clients, opts) {
  return Promise.all(clients.map((c) => c.synced(opts)))
}

/**
 * Waits (bounded) until all clients have the same JSON content and the same state vector, and
 * `extra(snapshot)` (optional) holds for that content. Returns the common snapshot.
 */
export async function waitConverged (clients, { timeout = 15_000, what = 'all clients to converge', extra } = {}) {
  let common
  await waitFor(() => {
    const snaps = clients.map((c) => canonicalJson(c.json()))
    if (!snaps.every((s) => s === snaps[0])) return false
    const svs = clients.map((c) => JSON.stringify([...c.stateVector()].sort((a, b) => a[0] - b[0])))
    if (!svs.every((s) => s === svs[0])) return false
    common = JSON.parse(snaps[0])
    return extra ? extra(common) : true
  }, {
    timeout,
    what,
    describe: () => clients.map((c) => `${c.name}: ${truncate(c.json(), 600)}`).join('\n    ')
  })
  return common
}

/**
 * Asserts that each client connected exactly once and was never closed by the server (a
 * reconnecting client still converges, so convergence alone would hide spurious closes).
 */
export function assertStayedConnected (clients) {
  for (const c of clients) {
    assert.deepEqual(c.closeEvents, [],
      `${c.name} was closed by the server: ${JSON.stringify(c.closeEvents.map(({ code, reason }) => ({ code, reason })))}`)
    assert.equal(c.statusCount('connected'), 1,
      `${c.name} connected ${c.statusCount('connected')} times (status log ${JSON.stringify(c.statusLog.map((s) => s.status))})`)
    assert.deepEqual(c.connectionErrors, [], `${c.name} had connection errors: ${c.history()}`)
  }
}

/**
 * Opens a raw `ws` WebSocket to `${wsBase}/${boardId}?token=...` and reports how the upgrade went:
 * `{ status: 101, ws }` if it opened (the caller must close `ws`; it is closed here unless
 * `keepOpen`), or `{ status }` with the HTTP status of a refused upgrade (from 'unexpected-response').
 */
export function upgrade (wsBase, boardId, token, { timeout = 5000, keepOpen = false } = {}) {
  const url = `${wsBase}/${encodeURIComponent(boardId)}?token=${encodeURIComponent(token)}`
  return withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode
      res.resume()
      ws.terminate()
      resolve({ status })
    })
    ws.on('open', () => {
      if (!keepOpen) ws.close(1000)
      resolve({ status: 101, ws: keepOpen ? ws : undefined })
    })
    // After 'unexpected-response' the promise is settled already, so a later error is moot.
    ws.on('error', reject)
  }), timeout, `the WebSocket upgrade of ${url.replace(/token=[^&]*/, 'token=…')}`)
}
