// Following a participant and "bring everyone here", both through presence (board/presence.ts).
//
// - Every participant publishes the part of the board they see (`view`, a world rectangle).
// - Following: tapping someone in the participant list makes our view track theirs (the same
//   world rectangle, fitted to our screen, so a tablet follows a wide screen sensibly). A banner
//   says whom we follow and stops it; so do Escape, and any pan or zoom of our own.
// - Bringing everyone here: a facilitator publishes a `summon` with a fresh nonce and their view;
//   everyone present moves there, sees who brought them and can go back. Nonces seen when a
//   participant first appears are ignored, so joining later does not replay an old call.
//   Presence is not authenticated per field: the UI offers the call to facilitators only and
//   honours it only from a presence that says it is a facilitator's. At worst a modified client
//   moves people's views, which one tap on "Revenir" undoes.

import { announce, h } from '../dom'
import { t } from '../i18n'
import { MAX_SCALE, MIN_SCALE, type Rect, type View } from './canvas'
import type { BoardContext } from './context'
import { icon } from './icons'
import { safeColor, safeRect, type Presence, type PresenceState } from './presence'

/** How long the "brought here" notice stays. */
const NOTICE_MS = 12_000
const ANIMATION_MS = 220

export class Follow {
  /** Banners over the canvas (following, brought here). */
  readonly el: HTMLElement
  /** The facilitators' "bring everyone here" button (hidden for others). */
  readonly summonButton: HTMLButtonElement
  /** The coloured frame around the canvas while following. */
  private readonly frameEl: HTMLElement
  private readonly followBanner: HTMLElement
  private readonly followText: HTMLElement
  private readonly stopButton: HTMLButtonElement
  private readonly notice: HTMLElement
  private readonly noticeText: HTMLElement
  private readonly backButton: HTMLButtonElement
  private readonly dismissButton: HTMLButtonElement
  private leader: string | null = null
  private leaderName = ''
  private leaderView: Rect | null = null
  /** The view we last set: anything else means the user moved the board themselves. */
  private expected: View | null = null
  private animation = 0
  private noticeTimer = 0
  private previousView: View | null = null
  private summonerName = ''
  /** Summon nonces by Yjs client id; a client's first one is only recorded. */
  private readonly seenSummons = new Map<number, string | null>()
  private size = { w: 0, h: 0 }
  private readonly cleanups: Array<() => void> = []

  constructor (private readonly ctx: BoardContext, private readonly presence: Presence, private readonly canSummon: () => boolean) {
    const canvas = ctx.canvas
    this.followText = h('span', { class: 'banner-text' })
    this.stopButton = h('button', { type: 'button', class: 'secondary' })
    this.followBanner = h('div', { class: 'banner follow-banner canvas-control', role: 'group' }, this.followText, this.stopButton)
    this.followBanner.hidden = true
    this.noticeText = h('span', { class: 'banner-text' })
    this.backButton = h('button', { type: 'button', class: 'secondary' })
    this.dismissButton = h('button', { type: 'button', class: 'tool banner-close' })
    this.notice = h('div', { class: 'banner summon-notice canvas-control', role: 'group' }, this.noticeText, this.backButton, this.dismissButton)
    this.notice.hidden = true
    this.el = h('div', { class: 'banners' }, this.followBanner, this.notice)
    this.frameEl = h('div', { class: 'follow-frame', 'aria-hidden': 'true' })
    this.frameEl.hidden = true
    canvas.el.append(this.frameEl, this.el)
    this.summonButton = h('button', { type: 'button', class: 'tool summon' })
    this.summonButton.addEventListener('click', () => this.summonEveryone())
    this.stopButton.addEventListener('click', () => this.stop())
    this.backButton.addEventListener('click', () => this.goBack())
    this.dismissButton.addEventListener('click', () => this.hideNotice())
    presence.onPick = (id) => { if (this.leader === id) this.stop(); else this.follow(id) }

    const resize = new ResizeObserver(() => {
      const r = canvas.el.getBoundingClientRect()
      this.size = { w: r.width, h: r.height }
      if (this.leaderView) this.track(false)
      this.publish()
    })
    resize.observe(canvas.el)
    this.cleanups.push(() => resize.disconnect())
    this.cleanups.push(canvas.onChange(() => this.onViewChange()))
    this.cleanups.push(presence.onChange(() => this.onPresence()))
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== 'Escape' || !this.leader) return
      const target = e.target as HTMLElement
      if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return
      this.stop()
    }
    document.addEventListener('keydown', onKey)
    this.cleanups.push(() => document.removeEventListener('keydown', onKey))
    // The first awareness states (everyone already here) are known before we act on any call.
    for (const [clientId, s] of presence.others()) this.seenSummons.set(clientId, summonNonce(s))
    this.render()
  }

  destroy (): void {
    for (const c of this.cleanups) c()
    cancelAnimationFrame(this.animation)
    clearTimeout(this.noticeTimer)
  }

  get following (): string | null { return this.leader }

  /** Relabels everything (language change). */
  render (): void {
    const label = t('follow.summon')
    this.summonButton.replaceChildren(icon('summon'), h('span', { class: 'tool-label' }, t('follow.summonShort')))
    this.summonButton.setAttribute('aria-label', label)
    this.summonButton.title = label
    this.summonButton.hidden = !this.canSummon()
    this.followText.textContent = t('follow.banner', { name: this.leaderName })
    this.stopButton.textContent = t('follow.stop')
    this.stopButton.setAttribute('aria-label', t('follow.stopLabel', { name: this.leaderName }))
    this.followBanner.setAttribute('aria-label', t('follow.banner', { name: this.leaderName }))
    this.noticeText.textContent = t('follow.summoned', { name: this.summonerName })
    this.notice.setAttribute('aria-label', t('follow.summoned', { name: this.summonerName }))
    this.backButton.textContent = t('follow.back')
    this.dismissButton.replaceChildren(icon('close'), h('span', { class: 'visually-hidden' }, t('common.close')))
    this.dismissButton.title = t('common.close')
  }

  // ---- following -------------------------------------------------------------------------

  follow (userId: string): void {
    const state = this.presence.stateOf(userId)
    if (!state?.user) return
    this.leader = userId
    this.leaderName = state.user.name
    this.leaderView = safeRect(state.view)
    this.presence.setFollowing(userId)
    this.frameEl.style.setProperty('--follow-color', safeColor(state.user.color))
    this.frameEl.hidden = false
    this.followBanner.hidden = false
    this.render()
    announce(t('follow.started', { name: this.leaderName }))
    if (this.leaderView) this.track(true)
  }

  stop (reason: 'user' | 'left' = 'user'): void {
    if (!this.leader) return
    const name = this.leaderName
    this.leader = null
    this.leaderView = null
    this.expected = null
    cancelAnimationFrame(this.animation)
    this.animation = 0
    this.presence.setFollowing(null)
    this.frameEl.hidden = true
    const hadFocus = this.followBanner.contains(document.activeElement)
    this.followBanner.hidden = true
    if (hadFocus) this.ctx.canvas.el.focus({ preventScroll: true })
    announce(t(reason === 'left' ? 'follow.leaderLeft' : 'follow.stopped', { name }))
  }

  private onPresence (): void {
    const others = this.presence.others()
    // Calls to bring everyone somewhere.
    for (const [clientId, s] of others) {
      const nonce = summonNonce(s)
      if (!this.seenSummons.has(clientId)) {
        this.seenSummons.set(clientId, nonce)
        continue
      }
      if (nonce === null || this.seenSummons.get(clientId) === nonce) continue
      this.seenSummons.set(clientId, nonce)
      const view = safeRect(s.summon?.view)
      if (view && s.user?.facilitator === true) this.summoned(s.user.name, view)
    }
    for (const clientId of [...this.seenSummons.keys()]) if (!others.has(clientId)) this.seenSummons.delete(clientId)
    // The participant we follow.
    if (!this.leader) return
    const state = this.presence.stateOf(this.leader)
    if (!state) {
      this.stop('left')
      return
    }
    const view = safeRect(state.view)
    if (view && !sameRect(view, this.leaderView)) {
      this.leaderView = view
      this.track(true)
    }
  }

  /** Moves our view to the leader's rectangle. */
  private track (animate: boolean): void {
    if (!this.leaderView) return
    this.moveTo(this.fitted(this.leaderView), animate)
  }

  /** The view that shows `r` whole and centred on our screen. */
  private fitted (r: Rect): View {
    const { w, h: height } = this.size
    if (w === 0 || height === 0) return this.ctx.canvas.view
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, Math.min(w / r.w, height / r.h)))
    return { scale, x: w / 2 - (r.x + r.w / 2) * scale, y: height / 2 - (r.y + r.h / 2) * scale }
  }

  private moveTo (target: View, animate: boolean): void {
    cancelAnimationFrame(this.animation)
    this.animation = 0
    const canvas = this.ctx.canvas
    const from = { ...canvas.view }
    const reduced = window.matchMedia('(prefers-reduced-motion: reduce)').matches
    if (!animate || reduced) {
      this.set(target)
      return
    }
    const start = performance.now()
    // Interpolate the world point at the centre and the log of the scale: no swinging.
    const { w, h: height } = this.size
    const centre = (v: View): [number, number] => [(w / 2 - v.x) / v.scale, (height / 2 - v.y) / v.scale]
    const [ax, ay] = centre(from)
    const [bx, by] = centre(target)
    const step = (): void => {
      const k = Math.min(1, (performance.now() - start) / ANIMATION_MS)
      const e = 1 - (1 - k) ** 3
      const scale = Math.exp(Math.log(from.scale) + (Math.log(target.scale) - Math.log(from.scale)) * e)
      const cx = ax + (bx - ax) * e
      const cy = ay + (by - ay) * e
      this.set({ scale, x: w / 2 - cx * scale, y: height / 2 - cy * scale })
      this.animation = k < 1 ? requestAnimationFrame(step) : 0
    }
    step()
  }

  private set (view: View): void {
    this.ctx.canvas.setView(view)
    this.expected = { ...this.ctx.canvas.view }
  }

  private onViewChange (): void {
    this.publish()
    const v = this.ctx.canvas.view
    const e = this.expected
    if (!this.leader || !e) return
    // Any other change is the user's own pan or zoom (or a note revealed): stop following.
    if (Math.abs(v.x - e.x) > 0.5 || Math.abs(v.y - e.y) > 0.5 || Math.abs(v.scale - e.scale) > 1e-6) this.stop()
  }

  /** Publishes our view (world rectangle) for followers. */
  private publish (): void {
    const { w, h: height } = this.size
    if (w === 0 || height === 0) return
    const v = this.ctx.canvas.view
    this.presence.setView({ x: -v.x / v.scale, y: -v.y / v.scale, w: w / v.scale, h: height / v.scale })
  }

  // ---- bringing everyone here ------------------------------------------------------------

  summonEveryone (): void {
    if (!this.canSummon()) return
    const { w, h: height } = this.size
    const v = this.ctx.canvas.view
    this.presence.summon({ x: -v.x / v.scale, y: -v.y / v.scale, w: w / v.scale, h: height / v.scale })
    announce(t('follow.summonedAll'))
  }

  private summoned (name: string, view: Rect): void {
    if (this.leader) this.stop()
    this.previousView = { ...this.ctx.canvas.view }
    this.summonerName = name
    this.render()
    this.notice.hidden = false
    announce(t('follow.summoned', { name }))
    this.moveTo(this.fitted(view), true)
    clearTimeout(this.noticeTimer)
    this.noticeTimer = window.setTimeout(() => {
      // Keep it while someone is using it (keyboard focus on its buttons).
      if (!this.notice.contains(document.activeElement)) this.hideNotice()
    }, NOTICE_MS)
  }

  private goBack (): void {
    const prev = this.previousView
    this.hideNotice()
    if (prev) this.moveTo(prev, true)
  }

  private hideNotice (): void {
    clearTimeout(this.noticeTimer)
    const hadFocus = this.notice.contains(document.activeElement)
    this.notice.hidden = true
    this.previousView = null
    if (hadFocus) this.ctx.canvas.el.focus({ preventScroll: true })
  }
}

function summonNonce (s: PresenceState): string | null {
  const nonce = s.summon?.nonce
  return typeof nonce === 'string' && nonce.length > 0 && nonce.length <= 64 ? nonce : null
}

function sameRect (a: Rect, b: Rect | null): boolean {
  return b !== null && a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h
}
