// Test wrapper that owns every server and client a test creates:
//   - everything is cleaned up when the test ends, passes or fails;
//   - on failure the stderr of every server the test started is printed;
//   - the test body has its own deadline, so a hung body still gets cleaned up;
//   - a file whose tests leaked a handle is failed instead of hanging the runner.
//
//   e2eTest('name', { timeout: 60_000 }, async (h) => {
//     const server = await h.startServer({ idleSecs: 1 })  // + organisation, admin token, project
//     const board = await h.board(server, 'b', ['alice'])  // a real board; alice: editor account
//     const a = h.client(server, board, { as: 'alice' })    // alice's (cached) login token
//     ...
//   })
//
// Accounts are created (and logged in, once) before the timed part of a test: h.participants()
// or the third argument of h.board(). h.client() itself is synchronous and never creates one.

import test, { after } from 'node:test'
import { AtelierServer, binaryProblem } from './server.js'
import { createClient } from './clients.js'
import { ensureTenancy, tenancyOf, forgetTenancies, DEFAULT_ORG } from './tenancy.js'

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

  /**
   * The organisation of `server`'s data dir (created with the CLI on first use: tenant, admin
   * login, one project). `org` names another organisation on the same database.
   */
  tenancy (server, org = DEFAULT_ORG) {
    this._assertOpen()
    return ensureTenancy(server, org)
  }

  /**
   * A new board (kind postit) in the organisation's project; resolves with its id. `participants`
   * (optional) are made sure to exist as editors first, so clients can use them at once.
   */
  async board (server, title = 'e2e', participants = []) {
    const org = await this.tenancy(server)
    if (participants.length) await org.participants(server, participants)
    return org.createBoard(server, title)
  }

  /**
   * Makes sure each named participant has an account, a project membership with `role` (default
   * editor; only applied when the account is created) and a login token. Resolves with the
   * accounts ({ name, id, email, token, ... }).
   */
  async participants (server, names, { role, org = DEFAULT_ORG } = {}) {
    const tenancy = await this.tenancy(server, org)
    return tenancy.participants(server, names, { role })
  }

  /** A server object that is not started yet (for tests that want to control start()). */
  server (opts = {}) {
    this._assertOpen()
    const server = new AtelierServer({ name: `server${this.servers.length + 1}`, ...opts })
    this.servers.push(server)
    return server
  }

  /**
   * Starts a server (fresh data dir unless opts.dataDir) and sets up its organisation (unless
   * opts.tenancy === false).
   */
  async startServer ({ tenancy = true, ...opts } = {}) {
    const server = this.server(opts)
    await server.start()
    if (tenancy) await ensureTenancy(server)
    return server
  }

  /**
   * Creates a stock client on `server` (AtelierServer or ws base url). Its token is `opts.token`,
   * or with `opts.as` the cached token of that participant (made by h.participants / h.board).
   */
  client (server, boardId, { as, org = DEFAULT_ORG, ...opts } = {}) {
    this._assertOpen()
    if (as !== undefined) {
      if (opts.token !== undefined) throw new Error('h.client: give either `as` or `token`, not both')
      if (typeof server === 'string') throw new Error('h.client: `as` needs the AtelierServer, not a url')
      opts.token = tenancyOf(server, org).tokenOf(as)
    }
    const c = createClient(server, boardId, { name: as ?? `client${this.clients.length + 1}`, ...opts })
    this.clients.push(c)
    return c
  }

  /** A line printed with the server logs if the test fails (and as a TAP diagnostic if it passes). */
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
      if (server.dataDir) forgetTenancies(server.dataDir)
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
      if (!failed) {
        await h.cleanup({ failed })
        // Measurements worth seeing on a pass too (latencies, statuses) go to the TAP output.
        for (const line of h.notes) t.diagnostic(line)
      }
    }
  })
}
