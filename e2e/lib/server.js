// Starts, stops, kills and restarts the Atelier server binary as a black box.
//
//   const server = new AtelierServer({ idleSecs: 1 })
//   await server.start()          // spawns `ATELIER_BIN serve`, waits for the listening line
//   server.wsUrl                  // ws://127.0.0.1:PORT/ws
//   await server.stop()           // SIGTERM, waits for exit, returns { code, signal }
//   server.kill()                 // SIGKILL now (synchronous), returns a promise of the exit
//   await server.restart()        // stop (if running) then start again on the same data dir
//   server.logs()                 // stderr (and stray stdout) of every run, for failure reports
//   await server.dispose()        // kill if running and remove the data dir
//
// Environment knobs (all optional):
//   ATELIER_BIN        server binary (default ../target/debug/atelier relative to e2e/)
//   E2E_DATABASE_URL   passed to the server as DATABASE_URL (default: SQLite in the data dir)
//   E2E_TMPDIR         where the per-test data dirs go (default e2e/.tmp, git-ignored)
//   E2E_KEEP_DATA=1    keep data dirs after the tests (they are always kept when a test fails)
//   E2E_RUST_LOG       RUST_LOG for the server (default info)

import { spawn } from 'node:child_process'
import { existsSync, statSync, accessSync, constants as fsConstants } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { withTimeout, MAX_WAIT_MS } from './util.js'

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const LISTENING_RE = /^listening on http:\/\/127\.0\.0\.1:(\d{1,5})$/

/** Keep at most this many characters of output per run (the tail is kept). */
const LOG_CAP = 4 * 1024 * 1024

// eslint-disable-next-line no-control-regex
const stripAnsi = (text) => text.replace(/\x1b\[[0-9;]*m/g, '')

/** Resolves the server binary path: ATELIER_BIN (relative to the cwd) or the debug build. */
export function atelierBin () {
  const fromEnv = process.env.ATELIER_BIN
  if (fromEnv && fromEnv.length > 0) return path.resolve(process.cwd(), fromEnv)
  return path.resolve(E2E_DIR, '../target/debug/atelier')
}

/** Returns null when the binary looks runnable, or a human-readable reason why not. */
export function binaryProblem (bin = atelierBin()) {
  if (!existsSync(bin)) {
    return `Atelier server binary not found at ${bin}\n` +
      'Build it first (from the repository root: `cargo build -p atelier-server`), ' +
      'or point ATELIER_BIN at a built binary.'
  }
  if (!statSync(bin).isFile()) return `ATELIER_BIN ${bin} is not a file`
  try {
    accessSync(bin, fsConstants.X_OK)
  } catch {
    return `ATELIER_BIN ${bin} is not executable`
  }
  return null
}

/**
 * The environment for a server or an `atelier admin` command: the test process's, minus anything
 * Atelier-specific (each caller passes the data dir / database explicitly), with RUST_LOG from
 * E2E_RUST_LOG and no colours (output goes to a pipe and into failure reports).
 */
export function serverEnv () {
  const env = { ...process.env }
  for (const key of Object.keys(env)) {
    if (key.startsWith('ATELIER_') || key === 'DATABASE_URL' || key === 'RUST_LOG') delete env[key]
  }
  env.RUST_LOG = process.env.E2E_RUST_LOG || 'info'
  env.NO_COLOR = '1'
  return env
}

/** Every server process this test file started and that has not exited yet. */
const liveProcesses = new Set()

/** Last resort: never leave a server behind when the test process goes away. */
function killAllLive () {
  for (const child of liveProcesses) {
    try { child.kill('SIGKILL') } catch { /* already gone */ }
  }
  liveProcesses.clear()
}
process.on('exit', killAllLive)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAllLive()
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[sig])
  })
}

async function makeDataDir () {
  const base = process.env.E2E_TMPDIR
    ? path.resolve(process.cwd(), process.env.E2E_TMPDIR)
    : path.join(E2E_DIR, '.tmp')
  await mkdir(base, { recursive: true })
  return mkdtemp(path.join(base, 'atelier-'))
}

class Run {
  constructor (index) {
    this.index = index
    this.output = ''
    this.truncated = 0
    this.pid = undefined
    this.port = undefined
    this.exit = undefined // { code, signal } once exited
  }

  append (text) {
    this.output += text
    if (this.output.length > LOG_CAP) {
      const cut = this.output.length - LOG_CAP
      this.truncated += cut
      this.output = this.output.slice(cut)
    }
  }
}

export class AtelierServer {
  /**
   * @param {object} [opts]
   * @param {string} [opts.dataDir] reuse this data dir (default: a fresh temp dir on first start)
   * @param {number} [opts.idleSecs] ATELIER_ROOM_IDLE_SECS
   * @param {Record<string,string>} [opts.env] extra environment for the server
   * @param {string} [opts.name] label used in logs
   */
  constructor ({ dataDir, idleSecs, env = {}, name = 'server' } = {}) {
    this.name = name
    this.dataDir = dataDir
    this.ownsDataDir = !dataDir
    this.idleSecs = idleSecs
    this.extraEnv = env
    this.bin = atelierBin()
    /** @type {Run[]} */
    this.runs = []
    this.child = null
    this.port = undefined
    this._exited = null // promise of { code, signal } for the current child
    this.disposed = false
  }

  get running () {
    return this.child !== null
  }

  get httpUrl () {
    this._assertStarted()
    return `http://127.0.0.1:${this.port}`
  }

  /** Base URL for the stock WebsocketProvider; it appends `/${boardId}?token=...`. */
  get wsUrl () {
    this._assertStarted()
    return `ws://127.0.0.1:${this.port}/ws`
  }

  _assertStarted () {
    if (this.port === undefined) throw new Error(`${this.name} has not been started`)
  }

  /** The environment for the server: the test process's, minus anything Atelier-specific. */
  _env () {
    const env = serverEnv()
    env.ATELIER_LISTEN = '127.0.0.1:0'
    env.ATELIER_DATA_DIR = this.dataDir
    if (process.env.E2E_DATABASE_URL) env.DATABASE_URL = process.env.E2E_DATABASE_URL
    if (this.idleSecs !== undefined) env.ATELIER_ROOM_IDLE_SECS = String(this.idleSecs)
    // Front-end development: serve the UI bundle from a directory (no server rebuild per change).
    if (process.env.E2E_UI_DIR) env.ATELIER_UI_DIR = path.resolve(process.env.E2E_UI_DIR)
    Object.assign(env, this.extraEnv)
    return env
  }

  /** Spawns the server and resolves once it printed its listening line and /healthz is 200. */
  async start ({ timeout = MAX_WAIT_MS } = {}) {
    if (this.disposed) throw new Error(`${this.name} was disposed (test finished); not starting it again`)
    if (this.child) throw new Error(`${this.name} is already running (pid ${this.child.pid})`)
    const problem = binaryProblem(this.bin)
    if (problem) throw new Error(problem)
    if (!this.dataDir) this.dataDir = await makeDataDir()

    const run = new Run(this.runs.length)
    this.runs.push(run)
    const child = spawn(this.bin, ['serve'], {
      env: this._env(),
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.child = child
    run.pid = child.pid
    if (child.pid !== undefined) liveProcesses.add(child)

    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk) => run.append(chunk))

    this._exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        run.exit = { code, signal }
        liveProcesses.delete(child)
        if (this.child === child) {
          this.child = null
        }
        resolve({ code, signal })
      })
    })
    const spawnError = new Promise((_resolve, reject) => {
      child.once('error', (err) => {
        liveProcesses.delete(child)
        if (this.child === child) this.child = null
        reject(new Error(`failed to spawn ${this.bin}: ${err.message}`))
      })
    })
    spawnError.catch(() => {}) // handled via the race below

    // The first stdout line must be exactly the listening line; later lines go to the log.
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity })
    const firstLine = new Promise((resolve, reject) => {
      let first = true
      lines.on('line', (line) => {
        if (first) {
          first = false
          resolve(line)
        } else {
          run.append(`[stdout] ${line}\n`)
        }
      })
      lines.once('close', () => {
        if (first) reject(new Error('server closed stdout before printing its listening line'))
      })
    })
    firstLine.catch(() => {})
    const exitedEarly = this._exited.then(({ code, signal }) => {
      throw new Error(`server exited (code ${code}, signal ${signal}) before printing its listening line`)
    })
    exitedEarly.catch(() => {})

    try {
      const line = await withTimeout(
        Promise.race([firstLine, exitedEarly, spawnError]),
        timeout,
        `the "listening on http://127.0.0.1:PORT" line from ${this.name}`
      )
      const match = LISTENING_RE.exec(line)
      if (!match) {
        throw new Error(`first stdout line of the server is not "listening on http://127.0.0.1:PORT": ${JSON.stringify(line)}`)
      }
      this.port = Number(match[1])
      run.port = this.port
      await this._checkHealth(timeout)
    } catch (err) {
      if (this.child === child) {
        child.kill('SIGKILL')
        await withTimeout(this._exited, 5000, 'the failed server to exit').catch(() => {})
      }
      err.message += `\n--- ${this.name} output (run ${run.index}) ---\n${run.output}`
      throw err
    }
    return this
  }

  async _checkHealth (timeout) {
    const res = await withTimeout(fetch(`${this.httpUrl}/healthz`), timeout, 'GET /healthz')
    await res.arrayBuffer().catch(() => {})
    if (res.status !== 200) throw new Error(`GET /healthz answered ${res.status}, expected 200`)
  }

  /**
   * Graceful stop: SIGTERM, then wait (≤ 15 s) for the process to exit.
   * Resolves with { code, signal }. If it does not exit in time it is SIGKILLed and this rejects.
   */
  async stop ({ timeout = MAX_WAIT_MS } = {}) {
    const child = this.child
    if (!child) return this.runs.at(-1)?.exit ?? { code: null, signal: null }
    const exited = this._exited
    child.kill('SIGTERM')
    try {
      return await withTimeout(exited, timeout, `${this.name} (pid ${child.pid}) to exit after SIGTERM`)
    } catch (err) {
      child.kill('SIGKILL')
      await withTimeout(exited, 5000, 'the server to exit after SIGKILL').catch(() => {})
      throw err
    }
  }

  /**
   * SIGKILL, sent synchronously before this returns (so it can be called from inside an event
   * handler at the exact moment of interest). Returns a promise of { code, signal }.
   */
  kill () {
    const child = this.child
    if (!child) return Promise.resolve(this.runs.at(-1)?.exit ?? { code: null, signal: null })
    const exited = this._exited
    child.kill('SIGKILL')
    return withTimeout(exited, 5000, `${this.name} (pid ${child.pid}) to exit after SIGKILL`)
  }

  /** Stops gracefully if running, then starts again on the same data dir (new port). */
  async restart () {
    if (this.child) {
      const { code, signal } = await this.stop()
      if (code !== 0) throw new Error(`${this.name} exited with code ${code} signal ${signal} on SIGTERM during restart`)
    }
    this.port = undefined
    return this.start()
  }

  /** All output collected so far, one section per run. */
  logs () {
    return this.runs.map((run) => {
      const exit = run.exit ? `exit code ${run.exit.code} signal ${run.exit.signal}` : 'still running'
      const head = `--- ${this.name} run ${run.index} (pid ${run.pid}, port ${run.port ?? '?'}, ${exit}; data dir ${this.dataDir}) ---`
      const cut = run.truncated ? `[... ${run.truncated} earlier chars dropped ...]\n` : ''
      return `${head}\n${cut}${stripAnsi(run.output)}`
    }).join('\n')
  }

  /** Kills the server if it is still running and removes the data dir (unless keepData). */
  async dispose ({ keepData = false } = {}) {
    this.disposed = true
    if (this.child) {
      // Graceful first so the server can tidy up; the tests that care assert on it themselves.
      try {
        await this.stop({ timeout: 12_000 })
      } catch { /* already killed by stop() */ }
    }
    if (this.ownsDataDir && this.dataDir && !keepData && !process.env.E2E_KEEP_DATA) {
      await rm(this.dataDir, { recursive: true, force: true }).catch(() => {})
    }
  }
}

/** Convenience: construct and start. */
export async function startServer (opts) {
  const server = new AtelierServer(opts)
  await server.start()
  return server
}
