// Real tenancy for the tests: an organisation (made with the `atelier admin` CLI on the server's
// own database), its admin's token, one project, boards in it, and participant accounts that are
// members of that project. Everything is cached per data dir (and per organisation), so a
// restarted server (same data dir, new port) keeps its accounts and tokens: they live in the
// database.
//
//   const org = await ensureTenancy(server)          // CLI create-tenant + admin login + project
//   const board = await org.createBoard(server, 'b')  // POST /projects/{id}/boards -> board id
//   await org.participants(server, ['alice', 'bob'])  // accounts, editor members, logged in once
//   org.tokenOf('alice')                              // synchronous, after participants()
//   await org.api(server, 'PUT', `/projects/${org.projectId}/members/${id}`, { body: { role: 'viewer' } })
//
// Account names map to e-mails `${name}@${domain}`; with E2E_DATABASE_URL (a database shared by
// every server of the run, and by earlier runs) a random tag is added so that each data dir gets
// its own organisation and accounts. Every participant logs in exactly once (the server limits
// failed logins per account and per address; we never fail one, and never retry one).

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { atelierBin, serverEnv } from './server.js'
import { MAX_WAIT_MS, truncate } from './util.js'

export const DEFAULT_ORG = 'org'
export const ADMIN_PASSWORD = 'admin-password-123'

/** How long one REST call or one CLI run may take. */
const CALL_TIMEOUT_MS = 10_000

/** Tenancies by `${dataDir}\0${org}`. */
const tenancies = new Map()

const sharedDatabase = () => Boolean(process.env.E2E_DATABASE_URL)

/** Runs `ATELIER_BIN admin --data-dir DIR [--database-url U] ARGS...` and parses its JSON line. */
export function runAdmin (dataDir, args, { timeout = MAX_WAIT_MS } = {}) {
  const full = ['admin', '--data-dir', dataDir]
  if (process.env.E2E_DATABASE_URL) full.push('--database-url', process.env.E2E_DATABASE_URL)
  full.push(...args)
  return new Promise((resolve, reject) => {
    execFile(atelierBin(), full, { env: serverEnv(), timeout, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const shown = full.map((a, i) => (full[i - 1] === '--admin-password' || full[i - 1] === '--password') ? '***' : a).join(' ')
      if (err) {
        reject(new Error(`atelier ${shown} failed (${err.code ?? err.signal ?? err.message})\n  stdout: ${truncate(stdout, 1000)}\n  stderr: ${truncate(stderr, 2000)}`))
        return
      }
      const line = stdout.trim().split('\n').filter(Boolean).at(-1) ?? ''
      try {
        resolve(JSON.parse(line))
      } catch {
        reject(new Error(`atelier ${shown} printed no JSON object: ${truncate(stdout, 1000)}\n  stderr: ${truncate(stderr, 2000)}`))
      }
    })
  })
}

/** An error carrying the HTTP status and the body of a failed REST call. */
export class ApiError extends Error {
  constructor (method, path, status, body) {
    super(`${method} /api/v1${path} answered ${status}: ${truncate(body, 1000)}`)
    this.status = status
    this.body = body
  }
}

/**
 * One REST call to `server` (its current port). Resolves with `{ status, body }` (body parsed as
 * JSON when possible). With `expect` (a status or a list), any other status throws an ApiError.
 */
export async function apiCall (server, method, path, { token, body, expect } = {}) {
  const headers = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res
  try {
    res = await fetch(`${server.httpUrl}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS)
    })
  } catch (err) {
    throw new Error(`${method} /api/v1${path} failed: ${err.message}`)
  }
  const text = await res.text()
  let parsed = text
  try { parsed = text.length ? JSON.parse(text) : null } catch { /* keep the text */ }
  if (expect !== undefined) {
    const ok = Array.isArray(expect) ? expect.includes(res.status) : res.status === expect
    if (!ok) throw new ApiError(method, path, res.status, text)
  }
  return { status: res.status, body: parsed }
}

export class Tenancy {
  constructor ({ dataDir, org }) {
    this.dataDir = dataDir
    this.org = org
    this.tag = sharedDatabase() ? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}` : ''
    this.domain = `${org}.test`
    this.adminEmail = this.email('admin')
    this.tenantId = undefined
    this.adminUserId = undefined
    this.adminToken = undefined
    this.projectId = undefined
    /** name -> { name, id, email, password, role, token } */
    this.accounts = new Map()
    this._ready = null
    this._pending = new Map() // name -> promise of the account
  }

  email (name) {
    return this.tag ? `${name}.${this.tag}@${this.domain}` : `${name}@${this.domain}`
  }

  /** CLI create-tenant, admin login, one project. Idempotent (the first call does the work). */
  setup (server) {
    if (!this._ready) {
      this._ready = this._setup(server)
      this._ready.catch(() => { this._ready = null })
    }
    return this._ready
  }

  async _setup (server) {
    const created = await runAdmin(this.dataDir, [
      'create-tenant',
      '--name', this.org === DEFAULT_ORG ? 'Org' : `Org ${this.org}`,
      '--admin-email', this.adminEmail,
      '--admin-password', ADMIN_PASSWORD
    ])
    if (!created.tenant_id || !created.admin_user_id) {
      throw new Error(`create-tenant printed ${JSON.stringify(created)}, expected {tenant_id, admin_user_id}`)
    }
    this.tenantId = created.tenant_id
    this.adminUserId = created.admin_user_id
    this.adminToken = await this.login(server, this.adminEmail, ADMIN_PASSWORD)
    const project = await this.api(server, 'POST', '/projects', { body: { name: `e2e ${this.org}` }, expect: 201 })
    this.projectId = project.body.id
    if (!this.projectId) throw new Error(`POST /projects answered ${JSON.stringify(project.body)} without an id`)
    return this
  }

  /** POST /auth/login; returns the token. Called once per account. */
  async login (server, email, password) {
    const res = await apiCall(server, 'POST', '/auth/login', { body: { email, password }, expect: 200 })
    if (typeof res.body?.token !== 'string') throw new Error(`login of ${email} answered ${JSON.stringify(res.body)} without a token`)
    return res.body.token
  }

  /** A REST call with the admin's token (unless `token` is given). */
  api (server, method, path, opts = {}) {
    return apiCall(server, method, path, { token: this.adminToken, ...opts })
  }

  /** A new board in the project; returns its id. */
  async createBoard (server, title = 'board', { kind = 'postit', projectId = this.projectId } = {}) {
    const res = await this.api(server, 'POST', `/projects/${projectId}/boards`, { body: { title, kind }, expect: 201 })
    if (!res.body?.id) throw new Error(`POST /projects/${projectId}/boards answered ${JSON.stringify(res.body)} without an id`)
    return res.body.id
  }

  /**
   * Makes sure each named participant exists, is a member of the project with `role` (when first
   * created) and has a token. Returns the accounts, in order.
   */
  participants (server, names, { role = 'editor' } = {}) {
    return Promise.all(names.map((name) => this.participant(server, name, { role })))
  }

  participant (server, name, { role = 'editor' } = {}) {
    const known = this.accounts.get(name)
    if (known) return Promise.resolve(known)
    let pending = this._pending.get(name)
    if (!pending) {
      pending = this._createParticipant(server, name, role).finally(() => this._pending.delete(name))
      this._pending.set(name, pending)
    }
    return pending
  }

  async _createParticipant (server, name, role) {
    await this.setup(server)
    const email = this.email(name)
    const password = `${name}-password-123`
    const displayName = name.charAt(0).toUpperCase() + name.slice(1)
    const user = await this.api(server, 'POST', '/users', {
      body: { email, password, display_name: displayName }, expect: 201
    })
    const id = user.body.id
    await this.setRole(server, id, role)
    const token = await this.login(server, email, password)
    const account = { name, id, email, password, role, token }
    this.accounts.set(name, account)
    return account
  }

  /** The cached account of a participant made by participants(). */
  account (name) {
    const account = this.accounts.get(name)
    if (!account) {
      throw new Error(`no participant "${name}" in ${this.org} yet: create it first (await h.participants(server, ['${name}']))`)
    }
    return account
  }

  /** The token of a participant made by participants() (synchronous). */
  tokenOf (name) {
    const account = this.account(name)
    if (!account.token) throw new Error(`the token of "${name}" was revoked (logout); use another participant`)
    return account.token
  }

  /** PUT /projects/{pid}/members/{user_id} {role}. */
  async setRole (server, userId, role, { projectId = this.projectId } = {}) {
    await this.api(server, 'PUT', `/projects/${projectId}/members/${userId}`, { body: { role }, expect: 200 })
  }

  /** DELETE /projects/{pid}/members/{user_id}. */
  async removeMember (server, userId, { projectId = this.projectId } = {}) {
    await this.api(server, 'DELETE', `/projects/${projectId}/members/${userId}`, { expect: [200, 204] })
  }

  /** POST /auth/logout with the participant's own token; the cached token is forgotten. */
  async logout (server, name) {
    const account = this.account(name)
    await apiCall(server, 'POST', '/auth/logout', { token: account.token, expect: [200, 204] })
    account.token = undefined
  }
}

function key (dataDir, org) {
  return `${dataDir}\0${org}`
}

/** The tenancy of `server`'s data dir (set up on first use). */
export async function ensureTenancy (server, org = DEFAULT_ORG) {
  if (!server.dataDir) throw new Error(`${server.name} has no data dir yet: start it first`)
  const k = key(server.dataDir, org)
  let tenancy = tenancies.get(k)
  if (!tenancy) {
    tenancy = new Tenancy({ dataDir: server.dataDir, org })
    tenancies.set(k, tenancy)
  }
  await tenancy.setup(server)
  return tenancy
}

/** The tenancy of `server`'s data dir, synchronously; throws if it was never set up. */
export function tenancyOf (server, org = DEFAULT_ORG) {
  const tenancy = server.dataDir && tenancies.get(key(server.dataDir, org))
  if (!tenancy || !tenancy.projectId) {
    throw new Error(`${server.name} has no "${org}" organisation yet (use h.startServer(), or await h.tenancy(server))`)
  }
  return tenancy
}

/** Forgets the tenancies of a data dir that is being removed. */
export function forgetTenancies (dataDir) {
  for (const k of [...tenancies.keys()]) if (k.startsWith(`${dataDir}\0`)) tenancies.delete(k)
}
