// Test wrapper that owns every server and client a test creates:
//   - everything is cleaned up when the test ends, passes or fails;
//   - on failure the stderr of every server the test started is printed;
//   - the test body has its own deadline, so a hung body still gets cleaned up;
//   - a file whose tests leaked a handle is failed instead of hanging the runner.
//
//   e2eTest('name', { timeout: 60_000 }, async (h) => {
//     const server = await h.startServer({ idleSecs: 1 })
//     const a = h.client(server, h.board(), { token: 'alice-token' })
//     ...
//   })

import test, { after } from 'node:test'
import { AtelierServer, binaryProblem } from './server.js'
import { createClient } from './clients.js'
import { randomBoardId } from './util.js'

const DEFAULT_TEST_TIMEOUT = 60_000

// Fail fast, once per file, with a clear message if there is no server binary.
const missingBinary = binaryProblem()
if (missingBinary) {
  test('Atelier server binary is present', () => {
    throw new Error(missingBinary)
  })
}

// Safety net: if anything is still keeping this test file's process alive well after the last
// test finished, say what it is and exit instead of hanging `npm test` forever.
after(() => {
  setTimeout(() => {
    process.stderr.write(`e2e: handles still open 10 s after the last test: ${process.getActiveResourcesInfo().join(', ')}\n`)
    process.exit(1)
  }, 10_000).unref()
})

export class Harness {
  constructor (t) {
    this.t = t
    /** @type {AtelierServer[]} */
    this.servers = []
    this.clients = []
    this.notes = []
    this.closed = false
  }

  _assertOpen () {
    // A body that outlived its deadline must not start anything after cleanup.
    if (this.closed) throw new Error('test already finished (timed out?); not starting anything new')
  }

  /** A fresh random board id. */
  board (prefix) {
    return randomBoardId(prefix)
  }

  /** A server object that is not started yet (for tests that want to control start()). */
  server (opts = {}) {
    this._assertOpen()
    const server = new AtelierServer({ name: `server${this.servers.length + 1}`, ...opts })
    this.servers.push(server)
    return server
  }

  /** Starts a server (fresh data dir unless opts.dataDir). */
  async startServer (opts = {}) {
    const server = this.server(opts)
    await server.start()
    return server
  }

  /** Creates a stock client on `server` (AtelierServer or ws base url). */
  client (server, boardId, opts = {}) {
    this._assertOpen()
    const c = createClient(server, boardId, { name: `client${this.clients.length + 1}`, ...opts })
    this.clients.push(c)
    return c
  }

  /** A line printed with the server logs if the test fails. */
  note (line) {
    this.notes.push(`[${new Date().toISOString()}] ${line}`)
  }

  destroyClients () {
    for (const c of this.clients) c.destroy()
  }

  async cleanup ({ failed }) {
    this.closed = true
    this.destroyClients()
    const errors = []
    for (const server of this.servers) {
      try {
        await server.dispose({ keepData: failed })
      } catch (err) {
        errors.push(err)
      }
    }
    if (errors.length) throw errors[0]
  }

  report () {
    const parts = []
    if (this.notes.length) parts.push(`--- test notes ---\n${this.notes.join('\n')}`)
    for (const server of this.servers) parts.push(server.logs())
    return parts.join('\n')
  }
}

/**
 * Declares a test that gets a Harness. `options.timeout` bounds the body (default 60 s); the
 * node:test timeout is set a little higher so cleanup can still run.
 */
export function e2eTest (name, options, fn) {
  if (typeof options === 'function') {
    fn = options
    options = {}
  }
  const { timeout = DEFAULT_TEST_TIMEOUT, ...rest } = options
  const skip = rest.skip ?? (missingBinary ? 'Atelier server binary missing' : undefined)
  test(name, { ...rest, skip, timeout: timeout + 30_000 }, async (t) => {
    const h = new Harness(t)
    let failed = false
    let timer
    try {
      const deadline = new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`test body did not finish within ${timeout} ms`)), timeout)
      })
      await Promise.race([fn(h), deadline])
    } catch (err) {
      failed = true
      // Stop everything first so the logs include the servers' shutdown.
      try { await h.cleanup({ failed }) } catch { /* reported below */ }
      process.stderr.write(`\n===== e2e failure in "${name}": ${err && err.message}\n${h.report()}\n===== end of "${name}" logs\n`)
      throw err
    } finally {
      clearTimeout(timer)
      if (!failed) await h.cleanup({ failed })
    }
  })
}
