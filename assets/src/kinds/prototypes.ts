// "Atelier des prototypes" (kind `prototypes`): frames are storyboard panels or screens, made
// with the generic drawing tools (frames, pen, shapes, notes, images). The kind adds a gallery
// that walks the frames one by one for everyone (docs/board-schema.md, "Board kinds"):
//
// - A facilitator starts it (`meta.gallery = {frame: id}`, the selected frame or the first),
//   moves to the previous or next frame (reading order: rows from top to bottom, left to right
//   in a row), and ends it (`{frame: null}`).
// - Everyone's view fits the current frame, as when following someone (follow.ts); a banner
//   says "Cadre 2 sur 5" and the frame's title. A participant may look around (any pan or zoom
//   of their own) and come back with "Revenir à la galerie".
// - Keyboard, for the facilitator while it runs: arrows (with nothing selected), Page Up and
//   Page Down, Home and End.

import { announce, h } from '../dom'
import { onLanguageChange, t } from '../i18n'
import type { Rect, View } from '../board/canvas'
import { icon } from '../board/icons'
import { metaOf, type FrameData } from '../board/schema'
import { LOCAL } from '../board/sync'
import type { KindHost, KindView } from './index'

export const GALLERY_META = 'gallery'
const FIT_MARGIN = 24
/** A change of view this soon after a pointer, wheel or key input is the participant's own. */
const INPUT_MS = 1500

/** The frame `meta.gallery` shows, or null when no gallery runs. */
export function galleryFrame (raw: unknown): string | null {
  if (!raw || typeof raw !== 'object') return null
  const frame = (raw as Record<string, unknown>).frame
  return typeof frame === 'string' && frame.length > 0 && frame.length <= 64 ? frame : null
}

/**
 * Frames in reading order: rows from top to bottom (a frame whose top is above the middle of
 * the row's first frame joins that row), left to right in each row.
 */
export function readingOrder (frames: FrameData[]): FrameData[] {
  const byTop = [...frames].sort((a, b) => a.y - b.y || a.x - b.x || (a.id < b.id ? -1 : 1))
  const rows: FrameData[][] = []
  for (const f of byTop) {
    const row = rows[rows.length - 1]
    if (row && f.y < row[0].y + row[0].h / 2) row.push(f)
    else rows.push([f])
  }
  return rows.flatMap((row) => row.sort((a, b) => a.x - b.x || a.y - b.y || (a.id < b.id ? -1 : 1)))
}

export function mountPrototypes (host: KindHost): KindView {
  const { ctx, frames } = host
  const doc = ctx.doc
  const meta = metaOf(doc)
  const canvas = ctx.canvas

  // ---- the parts ----
  const startButton = h('button', { type: 'button', class: 'tool gallery-start' })
  host.toolbarExtras.append(startButton)
  const counter = h('span', { class: 'gallery-counter' })
  const frameTitle = h('span', { class: 'gallery-frame-title' })
  const text = h('span', { class: 'banner-text gallery-text', role: 'status' }, counter, frameTitle)
  const prevButton = h('button', { type: 'button', class: 'tool gallery-prev' })
  const nextButton = h('button', { type: 'button', class: 'tool gallery-next' })
  const endButton = h('button', { type: 'button', class: 'secondary gallery-end' })
  const backButton = h('button', { type: 'button', class: 'secondary gallery-back' })
  const controls = h('div', { class: 'gallery-controls' }, prevButton, nextButton, endButton)
  const banner = h('div', { class: 'banner gallery-banner canvas-control', role: 'group' }, icon('view'), text, controls, backButton)
  banner.hidden = true
  host.follow.el.append(banner)

  let current: string | null = galleryFrame(meta.get(GALLERY_META))
  /** The view the gallery set last: any other view means the participant looked around. */
  let expected: View | null = null
  let away = false
  let lastAnnounced: string | null = null

  const ordered = (): FrameData[] => readingOrder(frames.ids().map((id) => frames.get(id)).filter((f): f is FrameData => f != null))
  const mayLead = (): boolean => ctx.facilitator() && ctx.canEdit()

  const write = (frame: string | null): void => {
    if (!mayLead()) return
    const raw = meta.get(GALLERY_META)
    const kept = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw as Record<string, unknown> : {}
    doc.transact(() => meta.set(GALLERY_META, { ...kept, frame }), LOCAL)
  }

  const start = (): void => {
    const list = ordered()
    if (list.length === 0) {
      ctx.tell(t('gallery.noFrames'))
      return
    }
    const selected = ctx.selection.list().find((id) => frames.has(id))
    write(selected ?? list[0].id)
  }
  const step = (delta: number): void => {
    const list = ordered()
    if (current === null || list.length === 0) return
    const i = list.findIndex((f) => f.id === current)
    const next = i < 0 ? 0 : Math.max(0, Math.min(list.length - 1, i + delta))
    if (list[next].id !== current) write(list[next].id)
  }
  const jump = (where: 'first' | 'last'): void => {
    const list = ordered()
    if (current === null || list.length === 0) return
    write(list[where === 'first' ? 0 : list.length - 1].id)
  }
  startButton.addEventListener('click', start)
  prevButton.addEventListener('click', () => step(-1))
  nextButton.addEventListener('click', () => step(1))
  endButton.addEventListener('click', () => write(null))
  backButton.addEventListener('click', () => {
    away = false
    fit(true)
    render()
    canvas.el.focus({ preventScroll: true })
  })

  /** Fits our view to the current frame. */
  const fit = (force = false): void => {
    if (current === null || (away && !force)) return
    const f = frames.get(current)
    if (!f) return
    const r: Rect = { x: f.x, y: f.y, w: f.w, h: f.h }
    const { width, height } = canvas.el.getBoundingClientRect()
    if (width === 0 || height === 0) return
    // Like canvas.fit, but a small frame may be shown larger than 100 %.
    const scale = Math.min(4, Math.max(0.1, Math.min((width - FIT_MARGIN * 2) / r.w, (height - FIT_MARGIN * 2 - bannerRoom()) / r.h)))
    const view = { scale, x: width / 2 - (r.x + r.w / 2) * scale, y: (height + bannerRoom()) / 2 - (r.y + r.h / 2) * scale }
    canvas.setView(view)
    expected = { ...canvas.view }
  }
  /** Room kept at the top of the canvas for the banner. */
  const bannerRoom = (): number => banner.hidden ? 0 : Math.min(120, banner.getBoundingClientRect().height + 16)

  // A change of view the participant made (a pan, a zoom, a key) leaves the gallery for them;
  // one made by the page itself (its first "zoom to fit" on arrival) is undone once it settles.
  let lastInput = Number.NEGATIVE_INFINITY
  const onInput = (): void => { lastInput = performance.now() }
  canvas.el.addEventListener('pointerdown', onInput, true)
  canvas.el.addEventListener('wheel', onInput, { capture: true, passive: true })
  window.addEventListener('keydown', onInput, true)
  let refit = 0
  const offView = canvas.onChange(() => {
    if (current === null || !expected || away) return
    const v = canvas.view
    if (Math.abs(v.x - expected.x) <= 0.5 && Math.abs(v.y - expected.y) <= 0.5 && Math.abs(v.scale - expected.scale) <= 1e-6) return
    if (performance.now() - lastInput < INPUT_MS) {
      away = true
      render()
      return
    }
    clearTimeout(refit)
    refit = window.setTimeout(() => { if (!away) fit() }, 250)
  })

  const render = (): void => {
    const running = current !== null
    const lead = mayLead()
    startButton.hidden = !lead || running
    banner.hidden = !running
    if (!running) return
    const list = ordered()
    const i = list.findIndex((f) => f.id === current)
    const f = i >= 0 ? list[i] : null
    if (f) {
      counter.textContent = t('gallery.counter', { n: i + 1, total: list.length })
      frameTitle.textContent = f.title.trim() === '' ? '' : ` · ${f.title.trim()}`
    } else {
      counter.textContent = t('gallery.missing')
      frameTitle.textContent = ''
    }
    controls.hidden = !lead
    prevButton.disabled = i <= 0
    nextButton.disabled = i < 0 ? list.length === 0 : i >= list.length - 1
    backButton.hidden = lead || !away
    banner.classList.toggle('away', away)
  }

  const describe = (): string => {
    const list = ordered()
    const i = list.findIndex((f) => f.id === current)
    if (i < 0) return t('gallery.missing')
    const title = list[i].title.trim()
    return `${t('gallery.counter', { n: i + 1, total: list.length })}${title ? ` : ${title}` : ''}`
  }

  const onGallery = (first = false): void => {
    const next = galleryFrame(meta.get(GALLERY_META))
    if (next === current && !first) return
    const was = current
    current = next
    if (current === null) {
      expected = null
      away = false
      render()
      if (was !== null) announce(t('gallery.ended'))
      lastAnnounced = null
      return
    }
    // The facilitator moved on: everyone goes there, even those who looked around.
    away = false
    render()
    requestAnimationFrame(() => {
      fit()
      const said = describe()
      if (said !== lastAnnounced) announce(was === null ? t('gallery.started', { where: said }) : said)
      lastAnnounced = said
    })
  }
  const onMeta = (e: { keysChanged: Set<string> }): void => { if (e.keysChanged.has(GALLERY_META)) onGallery() }
  meta.observe(onMeta)
  // Frames added, moved, renamed or deleted: the counter changes; the current frame is refitted.
  const offFrames = frames.onChange(() => {
    render()
    if (current !== null && !away) fit()
  })
  // A participant arriving while the gallery runs: after the page's own first fit.
  let arrived = false
  const offSync = ctx.sync.on(() => {
    render() // (the read-only state may have changed)
    if (arrived || !ctx.sync.synced) return
    arrived = true
    requestAnimationFrame(() => requestAnimationFrame(() => onGallery(true)))
  })
  const resize = new ResizeObserver(() => { if (current !== null && !away) fit() })
  resize.observe(canvas.el)
  const offLang = onLanguageChange(() => render())

  const relabel = (): void => {
    startButton.replaceChildren(icon('play'), h('span', { class: 'tool-label' }, t('gallery.startShort')))
    startButton.setAttribute('aria-label', t('gallery.start'))
    startButton.title = t('gallery.start')
    banner.setAttribute('aria-label', t('gallery.label'))
    prevButton.replaceChildren(icon('previous'), h('span', { class: 'visually-hidden' }, t('gallery.previous')))
    prevButton.title = t('gallery.previous')
    nextButton.replaceChildren(icon('next'), h('span', { class: 'visually-hidden' }, t('gallery.next')))
    nextButton.title = t('gallery.next')
    endButton.replaceChildren(icon('stop'), h('span', {}, t('gallery.end')))
    backButton.replaceChildren(icon('back'), h('span', {}, t('gallery.back')))
    controls.setAttribute('aria-label', t('gallery.keys'))
    render()
  }

  const handleKey = (e: KeyboardEvent): boolean => {
    if (current === null || !mayLead() || e.ctrlKey || e.metaKey || e.altKey) return false
    const nothingSelected = ctx.selection.size === 0
    switch (e.key) {
      case 'PageDown': step(1); return true
      case 'PageUp': step(-1); return true
      case 'Home': jump('first'); return true
      case 'End': jump('last'); return true
      case 'ArrowRight': case 'ArrowDown': if (!nothingSelected) return false; step(1); return true
      case 'ArrowLeft': case 'ArrowUp': if (!nothingSelected) return false; step(-1); return true
      default: return false
    }
  }

  relabel()
  if (ctx.sync.synced) onGallery(true)

  return {
    relabel,
    handleKey,
    destroy: () => {
      meta.unobserve(onMeta)
      offFrames()
      offSync()
      offView()
      offLang()
      clearTimeout(refit)
      canvas.el.removeEventListener('pointerdown', onInput, true)
      canvas.el.removeEventListener('wheel', onInput, true)
      window.removeEventListener('keydown', onInput, true)
      resize.disconnect()
      banner.remove()
      startButton.remove()
    }
  }
}
