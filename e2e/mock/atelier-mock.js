#!/usr/bin/env node
// A small stand-in for the Atelier server that follows the e2e contract, used only to check the
// test harness itself (`npm run test:mock`). It is NOT a reference implementation: storage is an
// append-only file per board, written synchronously before an update is applied or relayed.
//
// Contract covered: `serve`, ATELIER_LISTEN / ATELIER_DATA_DIR / ATELIER_ROOM_IDLE_SECS, the
// listening line on stdout, logs on stderr, GET /healthz, /ws/<board>?token=..., y-websocket sync
// and awareness (relayed to everyone including the sender, removed on close), the saved
// extension (type 90), room eviction, SIGTERM -> close 1001 + exit 0.

import http from 'node:http'
import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { WebSocketServer } from 'ws'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'

const MSG_SYNC = 0
const MSG_AWARENESS = 1
const MSG_SAVED = 90

const log = (...args) => process.stderr.write(`${new Date().toISOString()} INFO mock: ${args.join(' ')}\n`)

if (process.argv[2] !== 'serve') {
  process.stderr.write('usage: atelier-mock.js serve\n')
  process.exit(2)
}

const listen = process.env.ATELIER_LISTEN || '127.0.0.1:8080'
const dataDir = process.env.ATELIER_DATA_DIR || './atelier-data'
const idleMs = Number(process.env.ATELIER_ROOM_IDLE_SECS || 60) * 1000
mkdirSync(dataDir, { recursive: true })

const BOARD_RE = /^[A-Za-z0-9_-]{1,64}$/

// ---- storage: <dataDir>/<board>.log, records of [u32 length][update] ----

const logPath = (board) => path.join(dataDir, `${board}.log`)

function loadUpdates (board) {
  const file = logPath(board)
  if (!existsSync(file)) return []
  const buf = readFileSync(file)
  const out = []
  let pos = 0
  while (pos + 4 <= buf.length) {
    const len = buf.readUInt32LE(pos)
    if (pos + 4 + len > buf.length) break // torn tail after a crash
    out.push(new Uint8Array(buf.subarray(pos + 4, pos + 4 + len)))
    pos += 4 + len
  }
  return out
}

function commit (board, update) {
  const header = Buffer.alloc(4)
  header.writeUInt32LE(update.length)
  appendFileSync(logPath(board), Buffer.concat([header, Buffer.from(update)]))
}

// ---- rooms ----

/** @type {Map<string, Room>} */
const rooms = new Map()

class Room {
  constructor (board) {
    this.board = board
    this.doc = new Y.Doc({ gc: true })
    for (const u of loadUpdates(board)) Y.applyUpdate(this.doc, u, 'load')
    this.awareness = new awarenessProtocol.Awareness(this.doc)
    this.awareness.setLocalState(null)
    this.conns = new Set()
    this.idleTimer = null

    this.doc.on('update', (update, origin) => {
      if (origin === 'load') return
      const msg = encodeSync((enc) => syncProtocol.writeUpdate(enc, update))
      for (const conn of this.conns) if (conn !== origin) conn.send(msg)
    })
    this.awareness.on('update', ({ added, updated, removed }, origin) => {
      const changed = added.concat(updated, removed)
      if (origin && origin.ids) {
        for (const id of added.concat(updated)) origin.ids.add(id)
        for (const id of removed) origin.ids.delete(id)
      }
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MSG_AWARENESS)
      encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed))
      const msg = encoding.toUint8Array(enc)
      for (const conn of this.conns) conn.send(msg) // including the sender
    })
    log(`room ${board} loaded`)
  }

  join (conn) {
    clearTimeout(this.idleTimer)
    this.idleTimer = null
    this.conns.add(conn)
    conn.send(encodeSync((enc) => syncProtocol.writeSyncStep1(enc, this.doc)))
    const states = [...this.awareness.getStates().keys()]
    if (states.length) {
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MSG_AWARENESS)
      encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(this.awareness, states))
      conn.send(encoding.toUint8Array(enc))
    }
  }

  leave (conn) {
    if (!this.conns.delete(conn)) return
    awarenessProtocol.removeAwarenessStates(this.awareness, [...conn.ids], null)
    if (this.conns.size === 0) {
      this.idleTimer = setTimeout(() => {
        if (this.conns.size === 0 && rooms.get(this.board) === this) {
          rooms.delete(this.board)
          this.awareness.destroy()
          this.doc.destroy()
          log(`room ${this.board} evicted`)
        }
      }, idleMs)
    }
  }

  receiveUpdate (conn, update) {
    commit(this.board, update)
    const meta = Y.parseUpdateMeta(update)
    for (const client of meta.to.keys()) conn.docClients.add(client)
    Y.applyUpdate(this.doc, update, conn)
    const sv = Y.decodeStateVector(Y.encodeStateVector(this.doc))
    for (const other of this.conns) {
      if (!other.saved) continue
      if (![...meta.to.keys()].some((c) => other.docClients.has(c))) continue
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MSG_SAVED)
      const payload = encoding.createEncoder()
      const ids = [...other.docClients].filter((c) => sv.has(c))
      encoding.writeVarUint(payload, ids.length)
      for (const id of ids) {
        encoding.writeVarUint(payload, id)
        encoding.writeVarUint(payload, sv.get(id))
      }
      encoding.writeVarUint8Array(enc, encoding.toUint8Array(payload))
      other.send(encoding.toUint8Array(enc))
    }
  }
}

function encodeSync (write) {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MSG_SYNC)
  write(enc)
  return encoding.toUint8Array(enc)
}

function getRoom (board) {
  let room = rooms.get(board)
  if (!room) {
    room = new Room(board)
    rooms.set(board, room)
  }
  return room
}

// ---- connections ----

class Conn {
  constructor (ws, room, token) {
    this.ws = ws
    this.room = room
    this.token = token
    this.ids = new Set() // awareness client ids
    this.docClients = new Set() // doc client ids this connection wrote
    this.saved = false
  }

  send (msg) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(msg)
  }

  onMessage (data) {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    const type = decoding.readVarUint(decoder)
    if (type === MSG_SYNC) {
      const sub = decoding.readVarUint(decoder)
      if (sub === syncProtocol.messageYjsSyncStep1) {
        const sv = decoding.readVarUint8Array(decoder)
        this.send(encodeSync((enc) => {
          encoding.writeVarUint(enc, syncProtocol.messageYjsSyncStep2)
          encoding.writeVarUint8Array(enc, Y.encodeStateAsUpdate(this.room.doc, sv))
        }))
      } else {
        const update = decoding.readVarUint8Array(decoder)
        this.room.receiveUpdate(this, update)
      }
    } else if (type === MSG_AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(this.room.awareness, decoding.readVarUint8Array(decoder), this)
    } else if (type === MSG_SAVED) {
      decoding.readVarUint8Array(decoder)
      this.saved = true
    }
  }
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok\n')
  } else {
    res.writeHead(404)
    res.end()
  }
})
const wss = new WebSocketServer({ noServer: true })

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x')
  const m = /^\/ws\/([^/]+)$/.exec(url.pathname)
  const token = url.searchParams.get('token')
  if (!m || !BOARD_RE.test(m[1]) || !token) {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')
    return
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const room = getRoom(m[1])
    const conn = new Conn(ws, room, token)
    ws.on('message', (data) => {
      try {
        conn.onMessage(data)
      } catch (err) {
        log(`bad message: ${err}`)
        ws.close(1003)
      }
    })
    ws.on('close', () => room.leave(conn))
    ws.on('error', () => {})
    room.join(conn)
  })
})

const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))]
server.listen(port, host, () => {
  const addr = server.address()
  process.stdout.write(`listening on http://${addr.address}:${addr.port}\n`)
  log('started')
})

process.on('SIGTERM', () => {
  log('SIGTERM: closing connections')
  for (const ws of wss.clients) ws.close(1001, 'server shutting down')
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
})
