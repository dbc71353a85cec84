// The server's clock, as seen from this device: the shared timer (timer.ts) stores instants by
// the server's clock, so that tablets whose clocks are off (by minutes, sometimes) still show the
// same time left as everyone else.
//
// The estimate comes from the `Date` header of a few small requests (`GET /healthz`): the
// server's time at its answer lies in [Date, Date + 1 s), ours in [sent, received], so the
// offset lies in an interval; the intervals of several requests are intersected. A device whose
// clock agrees with that interval keeps offset 0 (its own clock, precise to the millisecond);
// another takes the nearest end, within about a second of the truth. Until the estimate is in
// (or when the server cannot be reached: a board opened offline), the offset is 0.

const SAMPLES = 3
/** Spacing between requests: the second boundaries fall in different places. */
const SPACING_MS = 370
/** Requests slower than this say little (a wide interval): they are not used. */
const MAX_RTT_MS = 3000

let offset = 0
let started: Promise<void> | null = null
const listeners = new Set<() => void>()

/** Milliseconds since the Unix epoch by the server's clock (as estimated). */
export function serverNow (): number {
  return Date.now() + offset
}

/** How far this device's clock is from the server's (ms; positive: the server is ahead). */
export function clockOffset (): number {
  return offset
}

/** Called when the estimate changes (the timer redraws). */
export function onClockChange (fn: () => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

/** Starts estimating (once per page; again later if the server could not be reached). */
export function syncClock (): Promise<void> {
  started ??= estimate().catch(() => { started = null })
  return started
}

async function sample (): Promise<[number, number] | null> {
  const sent = Date.now()
  const res = await fetch('/healthz', { cache: 'no-store', credentials: 'omit' })
  const received = Date.now()
  const date = res.headers.get('date')
  await res.arrayBuffer().catch(() => null)
  if (!date || received - sent > MAX_RTT_MS) return null
  const server = Date.parse(date)
  if (!Number.isFinite(server)) return null
  return [server - received, server + 1000 - sent]
}

async function estimate (): Promise<void> {
  let lo = Number.NEGATIVE_INFINITY
  let hi = Number.POSITIVE_INFINITY
  let last: [number, number] | null = null
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, SPACING_MS))
    const s = await sample().catch(() => null)
    if (!s) continue
    last = s
    lo = Math.max(lo, s[0])
    hi = Math.min(hi, s[1])
  }
  if (!last) throw new Error('the server did not answer')
  // Inconsistent samples (the device's clock was set meanwhile): trust the latest one.
  if (lo > hi) [lo, hi] = last
  const next = Math.min(hi, Math.max(lo, 0))
  if (next !== offset) {
    offset = next
    for (const fn of listeners) fn()
  }
}
