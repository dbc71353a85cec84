// The shared timer (docs/board-schema.md, `meta.timer`): facilitators start, pause, resume, add
// time to and reset it; everyone sees the same time left, large enough to read on a tablet
// across the room, a visual cue when the time is up (and, on devices where it was switched on,
// a short chime), and screen readers hear it start, pause, reach its last minute and end.
//
// The document holds instants, not a running count: when it last started (`startedAt`, by the
// server's clock as estimated by clock.ts), what ran before (`elapsedMs`) and the duration.
// Every client computes the time left from them, so nobody writes once a second and a client
// that joins late, or reconnects, shows the right time at once. Devices whose clocks disagree
// agree within about a second (clock.ts).

import { announce, h } from '../dom'
import { t } from '../i18n'
import { serverNow, onClockChange, syncClock } from './clock'
import type { BoardContext } from './context'
import type { FacilitationRules } from './facilitation'
import { icon, type IconName } from './icons'
import { MAX_TIMER_MS, META, metaOf, timerJSON, timerRemaining, type TimerState } from './schema'
import { LOCAL } from './sync'

/** Time one "+1 min" adds. */
export const ADD_STEP_MS = 60_000
/** A timer that ended less than this long ago still gives its cue to someone arriving. */
const LATE_CUE_MS = 3000
const TICK_MS = 250
const SOUND_KEY = 'atelier.timerSound'

/** The timer's actions (facilitators only: `meta` is theirs, the server reverts anyone else). */
export class SharedTimer {
  constructor (private readonly ctx: BoardContext, private readonly rules: FacilitationRules) {}

  get state (): TimerState | null { return this.rules.timer }

  /** Milliseconds left now (negative once up), or null without a timer. */
  remaining (): number | null {
    const s = this.state
    return s ? timerRemaining(s, serverNow()) : null
  }

  get running (): boolean { return this.state?.startedAt != null && (this.remaining() ?? 0) > 0 }

  private write (next: TimerState | null): void {
    if (!this.ctx.facilitator() || !this.ctx.canEdit()) return
    const meta = metaOf(this.ctx.doc)
    this.ctx.doc.transact(() => {
      if (next) meta.set(META.timer, timerJSON(next))
      else meta.delete(META.timer)
    }, LOCAL)
  }

  /** A new timer of `durationMs`, running from now (`phase`: the phase it belongs to). */
  start (durationMs: number, phase: string | null = null): void {
    this.write(fresh(durationMs, phase))
  }

  pause (): void {
    const s = this.state
    if (!s || s.startedAt === null) return
    const now = serverNow()
    this.write({ ...s, startedAt: null, elapsedMs: Math.min(s.durationMs, s.elapsedMs + Math.max(0, now - s.startedAt)) })
  }

  resume (): void {
    const s = this.state
    if (!s || s.startedAt !== null || timerRemaining(s, serverNow()) <= 0) return
    this.write({ ...s, startedAt: serverNow() })
  }

  /** Adds time; a timer that is up gets `ms` from now (and runs, if it was running). */
  addTime (ms = ADD_STEP_MS): void {
    const s = this.state
    if (!s) return
    const left = timerRemaining(s, serverNow())
    this.write({ ...s, durationMs: Math.min(MAX_TIMER_MS * 2, s.durationMs + ms + Math.max(0, -left)) })
  }

  /** Back to its whole duration, paused. */
  reset (): void {
    const s = this.state
    if (!s) return
    this.write({ ...s, startedAt: null, elapsedMs: 0 })
  }

  clear (): void {
    if (this.state) this.write(null)
  }
}

/** A timer of `durationMs` running from now. */
export function fresh (durationMs: number, phase: string | null): TimerState {
  return { durationMs: Math.max(1000, Math.min(MAX_TIMER_MS, Math.round(durationMs))), startedAt: serverNow(), elapsedMs: 0, phase }
}

/** "4:05", "1:02:03"; counts whole seconds up (0:00 exactly when the time is up). */
export function formatTime (ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = total % 60
  const ss = String(seconds).padStart(2, '0')
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`
}

/** The same, in words for screen readers ("4 minutes 5 secondes"). */
export function spokenTime (ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const minutes = Math.floor(total / 60)
  const seconds = total % 60
  if (minutes === 0) return t('timer.seconds', { n: seconds })
  if (seconds === 0) return t('timer.minutes', { n: minutes })
  return `${t('timer.minutes', { n: minutes })} ${t('timer.seconds', { n: seconds })}`
}

// ---- the chime ---------------------------------------------------------------------------------

let audio: AudioContext | null = null

/** Whether this device plays the chime (off unless switched on here). */
export function soundOn (): boolean {
  try { return localStorage.getItem(SOUND_KEY) === '1' } catch { return false }
}

function setSoundOn (on: boolean): void {
  try { localStorage.setItem(SOUND_KEY, on ? '1' : '0') } catch { /* not kept */ }
  if (on) wakeAudio()
}

/** Browsers start audio only from a gesture: called from one (a tap, a key). */
function wakeAudio (): void {
  try {
    audio ??= new AudioContext()
    if (audio.state === 'suspended') void audio.resume()
  } catch { /* no Web Audio: the visual cue stays */ }
}

/** Three short soft notes. */
function chime (): void {
  const ctx = audio
  if (!ctx || ctx.state !== 'running') return
  const start = ctx.currentTime + 0.05
  for (const [i, freq] of [[0, 784], [0.28, 659], [0.56, 880]] as const) {
    const osc = ctx.createOscillator()
    const gain = ctx.createGain()
    osc.type = 'sine'
    osc.frequency.value = freq
    gain.gain.setValueAtTime(0.0001, start + i)
    gain.gain.exponentialRampToValueAtTime(0.25, start + i + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i + 0.26)
    osc.connect(gain).connect(ctx.destination)
    osc.start(start + i)
    osc.stop(start + i + 0.3)
  }
}

// ---- the display -------------------------------------------------------------------------------

type Phase = 'none' | 'running' | 'paused' | 'ended'

/**
 * The timer as everyone sees it (the time left, its state) with, for facilitators, its controls
 * (start or pause, +1 min, reset), and the chime switch of this device. Lives in the strip over
 * the board (phases.ts).
 */
export class TimerDisplay {
  readonly el: HTMLElement
  private readonly time: HTMLElement
  private readonly stateText: HTMLElement
  private readonly controls: HTMLElement
  private readonly playButton: HTMLButtonElement
  private readonly addButton: HTMLButtonElement
  private readonly resetButton: HTMLButtonElement
  private readonly soundButton: HTMLButtonElement
  private tick = 0
  private saidLastMinute = false
  private phase: Phase = 'none'
  private lastLeft: number | null = null
  /** The timer we last saw (to announce what a facilitator changed). */
  private last: TimerState | null = null
  private readonly listeners = new Set<() => void>()
  private readonly cleanups: Array<() => void> = []

  constructor (private readonly ctx: BoardContext, private readonly timer: SharedTimer, rules: FacilitationRules) {
    this.time = h('span', { class: 'timer-time', role: 'timer' })
    this.stateText = h('span', { class: 'timer-state' })
    this.playButton = h('button', { type: 'button', class: 'tool timer-play' })
    this.addButton = h('button', { type: 'button', class: 'tool timer-add' })
    this.resetButton = h('button', { type: 'button', class: 'tool timer-reset' })
    this.soundButton = h('button', { type: 'button', class: 'tool timer-sound' })
    this.controls = h('div', { class: 'timer-controls', role: 'group' }, this.playButton, this.addButton, this.resetButton)
    this.el = h('div', { class: 'timer', role: 'group' },
      icon('timer'), h('div', { class: 'timer-readout' }, this.time, this.stateText), this.controls, this.soundButton)
    this.playButton.addEventListener('click', () => {
      if (this.timer.state?.startedAt != null) this.timer.pause()
      else this.timer.resume()
    })
    this.addButton.addEventListener('click', () => this.timer.addTime())
    this.resetButton.addEventListener('click', () => this.timer.reset())
    this.soundButton.addEventListener('click', () => {
      setSoundOn(!soundOn())
      this.render()
      announce(t(soundOn() ? 'timer.soundOnSaid' : 'timer.soundOffSaid'))
    })
    // The chime needs a gesture first: any tap or key on the page wakes the audio up.
    const wake = (): void => { if (soundOn()) wakeAudio() }
    document.addEventListener('pointerdown', wake, true)
    document.addEventListener('keydown', wake, true)
    this.cleanups.push(() => {
      document.removeEventListener('pointerdown', wake, true)
      document.removeEventListener('keydown', wake, true)
    })
    this.cleanups.push(rules.onMetaChange(() => this.changed()))
    // A new clock estimate moves the time left at once: that is no time running out.
    this.cleanups.push(onClockChange(() => { this.lastLeft = null; this.render() }))
    void syncClock()
    this.last = timer.state
    this.changed(true)
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    clearInterval(this.tick)
    this.listeners.clear()
  }

  /** Called when the timer appears, goes or ends (the strip shows or hides). */
  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  get visible (): boolean { return this.timer.state !== null }

  /** The timer changed in the document (anyone's change, ours included). */
  private changed (first = false): void {
    const prev = this.last
    const next = this.timer.state
    this.last = next
    // (Estimated once per page; again if the server could not be reached so far.)
    if (next) void syncClock()
    if (!first) this.announceChange(prev, next)
    clearInterval(this.tick)
    this.tick = 0
    if (next?.startedAt != null) this.tick = window.setInterval(() => this.render(), TICK_MS)
    this.lastLeft = first && next ? this.lateStart(next) : null
    this.saidLastMinute = false
    this.render()
    for (const fn of this.listeners) fn()
  }

  /** Someone arriving just after the end still gets the cue; long after, only the state. */
  private lateStart (s: TimerState): number | null {
    const left = timerRemaining(s, serverNow())
    return s.startedAt !== null && left <= 0 && left > -LATE_CUE_MS ? 1 : null
  }

  /** Says what a facilitator did to the timer (inferred from the old and new states). */
  private announceChange (prev: TimerState | null, next: TimerState | null): void {
    if (!next) {
      if (prev) announce(t('timer.cleared'))
      return
    }
    const time = spokenTime(timerRemaining(next, serverNow()))
    const same = prev !== null && prev.durationMs === next.durationMs && prev.elapsedMs === next.elapsedMs
    if (prev && same && prev.startedAt === null && next.startedAt !== null) {
      announce(t('timer.resumedSaid', { time }))
    } else if (next.startedAt !== null && next.elapsedMs === 0 && next.startedAt !== prev?.startedAt) {
      announce(t('timer.startedSaid', { time }))
    } else if (prev && prev.startedAt !== null && next.startedAt === null && next.elapsedMs > 0) {
      announce(t('timer.pausedSaid', { time }))
    } else if (next.startedAt === null && next.elapsedMs === 0) {
      announce(t('timer.resetSaid', { time }))
    } else if (prev && next.durationMs > prev.durationMs) {
      announce(t('timer.addedSaid', { time }))
    }
  }

  /** Redraws (every tick while running): only what changed touches the DOM. */
  render (): void {
    const s = this.timer.state
    const facilitator = this.ctx.facilitator()
    const editable = this.ctx.canEdit()
    const left = s ? timerRemaining(s, serverNow()) : 0
    const phase: Phase = !s ? 'none' : left <= 0 ? 'ended' : s.startedAt !== null ? 'running' : 'paused'
    // The moment the time runs out, for everyone at once.
    if (s && this.lastLeft !== null && this.lastLeft > 0 && left <= 0 && s.startedAt !== null) this.cue()
    this.lastLeft = s ? left : null
    if (phase === 'running' && left <= 60_000 && left > 58_000 && !this.saidLastMinute) {
      this.saidLastMinute = true
      announce(t('timer.lastMinute'))
    }
    if (phase !== this.phase) {
      this.phase = phase
      this.el.dataset.state = phase
    }
    // Only a running timer ticks (the crossing to zero was just handled above).
    if (phase !== 'running' && this.tick) {
      clearInterval(this.tick)
      this.tick = 0
    }
    const time = formatTime(left)
    if (this.time.textContent !== time) this.time.textContent = time
    const state = phase === 'paused' ? t('timer.paused') : phase === 'ended' ? t('timer.ended') : ''
    if (this.stateText.textContent !== state) this.stateText.textContent = state
    this.stateText.hidden = state === ''
    setAttr(this.time, 'aria-label', phase === 'ended' ? t('timer.ended') : t('timer.leftLabel', { time: spokenTime(left) }))
    setAttr(this.el, 'aria-label', t('timer.label'))
    setAttr(this.controls, 'aria-label', t('timer.controls'))
    this.controls.hidden = !facilitator
    const running = s?.startedAt != null && phase !== 'ended'
    setButton(this.playButton, running ? 'pause' : 'play', running ? t('timer.pause') : t('timer.resume'))
    this.playButton.disabled = !editable || !s || phase === 'ended'
    setButton(this.addButton, null, t('timer.addMinute'), t('timer.addMinuteShort'))
    this.addButton.disabled = !editable || !s
    setButton(this.resetButton, 'reset', t('timer.reset'))
    this.resetButton.disabled = !editable || !s
    const sound = soundOn()
    setButton(this.soundButton, sound ? 'sound' : 'soundOff', t('timer.sound'))
    this.soundButton.setAttribute('aria-pressed', String(sound))
    this.soundButton.title = sound ? t('timer.soundOn') : t('timer.soundOff')
  }

  /** Time is up: the strip flashes, screen readers hear it, the chime plays where switched on. */
  private cue (): void {
    this.el.classList.remove('timer-cue')
    // Restart the animation (a reflow between removing and adding the class).
    void this.el.offsetWidth
    this.el.classList.add('timer-cue')
    announce(t('timer.endedSaid'))
    if (soundOn()) chime()
  }
}

/**
 * A button of the strip: an icon with a visually hidden name, or a short visible text (its
 * name, so that what one sees is what one says to voice control); the tooltip says it all.
 */
export function setButton (b: HTMLButtonElement, iconName: IconName | null, label: string, visible?: string): void {
  const key = `${iconName ?? ''}|${label}|${visible ?? ''}`
  if (b.dataset.shown === key) return
  b.dataset.shown = key
  if (visible) b.replaceChildren(iconName ? icon(iconName) : '', h('span', { class: 'strip-button-text' }, visible))
  else b.replaceChildren(iconName ? icon(iconName) : '', h('span', { class: 'visually-hidden' }, label))
  b.title = label
}

function setAttr (el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value)
}
