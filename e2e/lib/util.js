// Small helpers shared by the harness and the tests. Every wait here is bounded.

import { randomBytes } from 'node:crypto'

/** The longest any single wait in this suite may take (the brief caps waits at 15 s). */
export const MAX_WAIT_MS = 15_000

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A fresh board id matching `[A-Za-z0-9_-]{1,64}`. */
export function randomBoardId (prefix = 'e2e') {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`
}

function clampTimeout (timeout) {
  if (!(timeout > 0)) return 10_000
  return Math.min(timeout, MAX_WAIT_MS)
}

/**
 * Resolves with the promise's value, or rejects after `timeout` ms with `what` in the message.
 * The timer never keeps the process alive.
 */
export function withTimeout (promise, timeout, what) {
  const ms = clampTimeout(timeout)
  let timer
  const deadline = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/**
 * Polls `predicate` (sync or async) until it returns a truthy value, which is returned.
 * `describe()` (optional) is called on timeout to add the current state to the error.
 */
export async function waitFor (predicate, { timeout = 10_000, interval = 20, what = 'condition', describe } = {}) {
  const ms = clampTimeout(timeout)
  const start = Date.now()
  let lastError
  for (;;) {
    try {
      const value = await predicate()
      if (value) return value
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    if (Date.now() - start >= ms) {
      let detail = ''
      if (describe) {
        try { detail = `\n  state: ${truncate(describe(), 2000)}` } catch (e) { detail = `\n  (describe failed: ${e})` }
      }
      if (lastError) detail += `\n  last predicate error: ${lastError && lastError.stack ? lastError.stack : lastError}`
      throw new Error(`timed out after ${ms} ms waiting for ${what}${detail}`)
    }
    await sleep(interval)
  }
}

export function truncate (value, max = 2000) {
  const s = typeof value === 'string' ? value : JSON.stringify(value)
  if (s === undefined) return String(s)
  return s.length > max ? s.slice(0, max) + `... (${s.length - max} more chars)` : s
}

/** Map -> plain object with string keys, for readable assertion diffs. */
export function mapToObject (map) {
  const out = {}
  for (const [k, v] of map) out[String(k)] = v
  return out
}

/** Random integer in [0, n). */
export const randInt = (n) => Math.floor(Math.random() * n)

/** JSON with object keys sorted, so equal content compares equal whatever the insertion order. */
export function canonicalJson (value) {
  return JSON.stringify(sortKeys(value))
}

function sortKeys (value) {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out = {}
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key])
    return out
  }
  return value
}
