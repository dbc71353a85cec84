// Photo-langage (docs/board-schema.md, "Photo-langage"): the facilitator uploads a deck of images
// (`meta.deck`, the board's image API); each participant picks one or more images and writes why
// (a note whose `pick` is the image's asset id; the text is the why). The deck is laid out in a
// row on the canvas, each pick under its image; the "Le jeu d'images" panel lets anyone pick
// with a tap (no dragging), and "Les choix" lists the picks grouped under each image.

import * as Y from 'yjs'
import { announce, clear, h } from '../dom'
import { t } from '../i18n'
import { isSupportedImage, MAX_IMAGE_BYTES } from '../board/images'
import { boardTopZ } from '../board/operations'
import { SidePanel } from '../board/panel'
import { isNote, makeNote, metaOf, newId, notesOf, zBetween, type NoteData, type NoteMap } from '../board/schema'
import { LOCAL } from '../board/sync'
import type { KindHost, KindView } from './index'

export interface DeckCard { asset: string, name: string }

export const PICK = 'pick'
const MAX_DECK = 60
const MAX_NAME = 80
const MAX_WHY = 1000
/** A card of the deck on the canvas: the image's box and its caption, board units. */
const CARD_W = 360
const CARD_H = 270
const CAPTION = 56
const GAP = 80
const PICK_H = 140
const PICK_GAP = 16

export function readDeck (v: unknown): DeckCard[] {
  if (!Array.isArray(v)) return []
  const out: DeckCard[] = []
  const seen = new Set<string>()
  for (const c of v) {
    if (!c || typeof c !== 'object') continue
    const { asset, name } = c as Record<string, unknown>
    if (typeof asset !== 'string' || asset === '' || seen.has(asset)) continue
    seen.add(asset)
    out.push({ asset, name: typeof name === 'string' ? name.slice(0, MAX_NAME) : '' })
    if (out.length === MAX_DECK) break
  }
  return out
}

/** Where card `i` of `n` lies on the canvas (its image box's top-left corner). */
function cardAt (i: number, n: number): [number, number] {
  const total = n * CARD_W + (n - 1) * GAP
  return [-total / 2 + i * (CARD_W + GAP), -CARD_H - CAPTION - 40]
}

const cardName = (c: DeckCard, i: number): string => c.name.trim() || t('photo.untitled', { n: i + 1 })

export function mountPhotolangage (host: KindHost): KindView {
  const { ctx } = host
  const doc = ctx.doc
  const meta = metaOf(doc)
  const notesMap = notesOf(doc)
  let deck = readDeck(meta.get('deck'))
  const cleanups: Array<() => void> = []

  /** An <img> showing the asset (fetched with the bearer token by the image store). */
  const image = (asset: string, alt: string): HTMLImageElement => {
    const img = h('img', { alt, class: 'photo-img', draggable: 'false' }) as HTMLImageElement
    host.images.url(asset).then((url) => { img.src = url }, () => { img.classList.add('photo-missing') })
    return img
  }

  // ---- the deck on the canvas, under every item -------------------------------------------
  const layer = h('div', { class: 'photo-deck-layer', 'aria-hidden': 'true' })
  ctx.canvas.world.prepend(layer)
  let drawn = ''
  const draw = (): void => {
    const key = JSON.stringify([deck, t('photo.untitled', { n: 1 })])
    if (key === drawn) return
    drawn = key
    clear(layer)
    deck.forEach((c, i) => {
      const [x, y] = cardAt(i, deck.length)
      const card = h('div', { class: 'photo-card' }, h('div', { class: 'photo-card-image' }, image(c.asset, '')), h('div', { class: 'photo-card-name' }, cardName(c, i)))
      card.style.transform = `translate(${x}px, ${y}px)`
      card.style.width = `${CARD_W}px`
      layer.append(card)
    })
  }

  // ---- picks ----------------------------------------------------------------------------------
  const picksOf = (asset: string): NoteData[] => {
    const out: NoteData[] = []
    for (const n of host.notes.all()) if (notesMap.get(n.id)?.get(PICK) === asset) out.push(n)
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }

  /** A free place under the card of `asset` for a new pick. */
  const pickSpot = (asset: string): [number, number] => {
    const i = Math.max(0, deck.findIndex((c) => c.asset === asset))
    const [x, y0] = cardAt(i, deck.length)
    const all = [...host.notes.all(), ...(host.notes.divert?.all() ?? [])]
    for (let k = 0; k < 200; k++) {
      const y = y0 + CARD_H + CAPTION + 24 + k * (PICK_H + PICK_GAP)
      if (!all.some((n) => n.x < x + CARD_W && n.x + n.w > x && n.y < y + PICK_H && n.y + n.h > y)) return [x, y]
    }
    return [x, y0 + CARD_H + CAPTION + 24]
  }

  const addPick = (asset: string, why: string): string | null => {
    if (!ctx.canEdit()) { announce(t('board.readOnlyAnnounce')); return null }
    const refusal = ctx.addRefusal('notes')
    if (refusal !== null) { ctx.tell(refusal); return null }
    const [x, y] = pickSpot(asset)
    const id = newId()
    const note = makeNote({ x, y, w: CARD_W, h: PICK_H, z: zBetween(boardTopZ(ctx), null), color: ctx.noteColor, text: why, createdBy: ctx.participantId })
    note.set(PICK, asset)
    // Where every new note goes: a silent phase's private document (board/private.ts), else the board.
    host.notes.insert(id, note)
    return id
  }

  // ---- the deck panel: pick an image (everyone), upload (facilitators) --------------------------
  const deckPanel = new SidePanel('photo-deck', 'photo.deck', 'image', host.panels)
  const picksPanel = new SidePanel('photo-picks', 'photo.picks', 'outline', host.panels)
  host.body.append(deckPanel.el, picksPanel.el)
  host.toolbarExtras.append(deckPanel.toggle, picksPanel.toggle)
  let choosing: string | null = null
  /**
   * The why being typed: kept across rebuilds of the panel (the deck changed, the language…),
   * and when the chosen image is removed (the next image chosen takes it). Cleared once added or
   * cancelled.
   */
  let draft = ''
  /** The image chosen was removed from the deck while its why was being typed (its name). */
  let removedWhileTyping: string | null = null
  const uploadStatus = h('p', { class: 'hint', role: 'status' })
  const fileInput = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp,image/gif', multiple: true, class: 'photo-file' }) as HTMLInputElement

  const upload = async (files: File[]): Promise<void> => {
    if (!ctx.facilitator()) return
    let done = 0
    const added: DeckCard[] = []
    for (const file of files) {
      if (!isSupportedImage(file) || file.size > MAX_IMAGE_BYTES) {
        uploadStatus.textContent = t('photo.badFile', { name: file.name })
        continue
      }
      uploadStatus.textContent = t('photo.uploading', { n: done + 1, total: files.length })
      try {
        const img = await host.images.upload(file)
        added.push({ asset: img.id, name: file.name.replace(/\.[a-z0-9]+$/i, '').slice(0, MAX_NAME) })
        done++
      } catch {
        uploadStatus.textContent = t('photo.uploadFailed', { name: file.name })
      }
    }
    if (added.length > 0) {
      doc.transact(() => meta.set('deck', [...readDeck(meta.get('deck')), ...added].slice(0, MAX_DECK)), LOCAL)
      uploadStatus.textContent = t('photo.uploaded', { n: added.length })
      announce(uploadStatus.textContent)
    }
  }
  fileInput.addEventListener('change', () => {
    const files = [...(fileInput.files ?? [])]
    fileInput.value = ''
    if (files.length > 0) void upload(files)
  })

  const removeCard = (asset: string): void => {
    if (!ctx.facilitator()) return
    doc.transact(() => meta.set('deck', readDeck(meta.get('deck')).filter((c) => c.asset !== asset)), LOCAL)
  }
  const renameCard = (asset: string, name: string): void => {
    if (!ctx.facilitator()) return
    doc.transact(() => meta.set('deck', readDeck(meta.get('deck')).map((c) => c.asset === asset ? { asset, name: name.trim().slice(0, MAX_NAME) } : c)), LOCAL)
  }

  const renderDeck = (): void => {
    if (!deckPanel.open) return
    const body = deckPanel.body
    // A why being typed stays as it is while the deck changes: the form is updated in place
    // (the chosen image's name) and only rebuilt for another image or another language.
    const typing = body.querySelector<HTMLTextAreaElement>('.photo-why textarea')
    const form = typing?.closest<HTMLElement>('.photo-why')
    const at = choosing !== null ? deck.findIndex((c) => c.asset === choosing) : -1
    if (typing && form && body.dataset.shown !== undefined && at >= 0 && form.dataset.chosen === choosing) {
      const name = cardName(deck[at], at)
      const title = form.querySelector('h3')
      const text = t('photo.chosen', { name })
      if (title && title.textContent !== text) title.textContent = text
      if (title) title.dataset.name = name
      form.querySelector('.photo-why-image img')?.setAttribute('alt', name)
      body.dataset.shown = JSON.stringify([deck, choosing])
      return
    }
    // The chosen image left the deck while its why was being typed: back to the deck, the text
    // kept for the next image chosen, and the reason said.
    const focused = typing !== null && document.activeElement === typing
    const selection = typing ? [typing.selectionStart, typing.selectionEnd] : null
    if (choosing !== null && at < 0) {
      if (draft.trim() !== '') {
        const heading = form?.querySelector('h3')?.dataset.name
        removedWhileTyping = heading ?? ''
      }
      choosing = null
    }
    body.dataset.shown = JSON.stringify([deck, choosing])
    clear(body)
    if (ctx.facilitator()) {
      const label = h('label', { class: 'button secondary photo-upload' }, t('photo.upload'), fileInput)
      body.append(h('section', { class: 'photo-facilitator' }, h('h3', {}, t('photo.deckTitle')), h('p', { class: 'hint' }, t('photo.uploadHint')), label, uploadStatus))
    }
    if (removedWhileTyping !== null) {
      const notice = h('p', { class: 'photo-removed', role: 'alert', tabindex: '-1' }, t('photo.removedWhileTyping', { name: removedWhileTyping }))
      body.append(notice)
      removedWhileTyping = null
      if (focused) requestAnimationFrame(() => notice.focus())
    }
    if (deck.length === 0) {
      body.append(h('p', { class: 'hint' }, t(ctx.facilitator() ? 'photo.emptyFacilitator' : 'photo.empty')))
      return
    }
    const i = choosing !== null ? deck.findIndex((c) => c.asset === choosing) : -1
    if (i >= 0) {
      const c = deck[i]
      const why = h('textarea', { rows: 4, maxlength: MAX_WHY, id: 'photo-why-text' }) as HTMLTextAreaElement
      why.value = draft
      why.addEventListener('input', () => { draft = why.value })
      const error = h('p', { class: 'form-error', role: 'alert' })
      const submit = h('button', { type: 'submit' }, t('photo.submit'))
      const cancel = h('button', { type: 'button', class: 'secondary' }, t('common.cancel'))
      cancel.addEventListener('click', () => { choosing = null; draft = ''; renderDeck(); body.querySelector<HTMLElement>(`[data-asset="${CSS.escape(c.asset)}"]`)?.focus() })
      const title = h('h3', {}, t('photo.chosen', { name: cardName(c, i) }))
      title.dataset.name = cardName(c, i)
      const form = h('form', { class: 'photo-why', 'data-chosen': c.asset },
        title,
        h('div', { class: 'photo-why-image' }, image(c.asset, cardName(c, i))),
        h('div', { class: 'field' }, h('label', { for: 'photo-why-text' }, t('photo.why')), why),
        error,
        h('div', { class: 'photo-actions' }, submit, cancel))
      form.addEventListener('submit', (e) => {
        e.preventDefault()
        const text = why.value.trim().slice(0, MAX_WHY)
        if (text === '') { error.textContent = t('photo.whyRequired'); why.focus(); return }
        const id = addPick(c.asset, text)
        if (!id) return
        choosing = null
        draft = ''
        announce(t('photo.picked'))
        ctx.tell(t('photo.picked'))
        const d = host.notes.get(id) ?? host.notes.divert?.get(id)
        if (d) ctx.canvas.reveal({ x: d.x, y: d.y, w: d.w, h: d.h }, 64)
        renderDeck()
      })
      body.append(form)
      // A new choice puts the focus in the why; a rebuild (language, role) keeps it where it was.
      if (typing === null || focused) {
        requestAnimationFrame(() => {
          why.focus()
          if (focused && selection && selection[0] !== null && selection[1] !== null) why.setSelectionRange(selection[0], selection[1])
          else why.setSelectionRange(why.value.length, why.value.length)
        })
      }
      return
    }
    body.append(h('p', { class: 'hint' }, t('photo.pickHint')))
    const grid = h('ul', { class: 'photo-grid' })
    deck.forEach((c, i) => {
      const name = cardName(c, i)
      const mine = picksOf(c.asset).some((n) => n.createdBy === ctx.participantId)
      const pick = h('button', { type: 'button', class: 'photo-choice', 'data-asset': c.asset, disabled: !ctx.canEdit() },
        image(c.asset, ''), h('span', { class: 'photo-choice-name' }, name), mine ? h('span', { class: 'photo-mine' }, t('photo.mine')) : null)
      pick.setAttribute('aria-label', t(mine ? 'photo.pickAgain' : 'photo.pick', { name }))
      pick.addEventListener('click', () => { choosing = c.asset; renderDeck() })
      const item = h('li', { class: 'photo-grid-item' }, pick)
      if (ctx.facilitator()) {
        const rename = h('input', { type: 'text', value: c.name, maxlength: MAX_NAME, autocomplete: 'off', 'aria-label': t('photo.rename', { name }) }) as HTMLInputElement
        rename.addEventListener('change', () => renameCard(c.asset, rename.value))
        const remove = h('button', { type: 'button', class: 'secondary danger', 'aria-label': t('photo.removeN', { name }) }, t('photo.remove'))
        remove.addEventListener('click', () => removeCard(c.asset))
        item.append(h('div', { class: 'photo-card-tools' }, rename, remove))
      }
      grid.append(item)
    })
    body.append(grid)
  }

  // ---- "Les choix": the picks grouped under each image -----------------------------------------
  let picksShown = ''
  const renderPicks = (): void => {
    if (!picksPanel.open) return
    const groups = deck.map((c, i) => ({ c, i, picks: picksOf(c.asset) }))
    const key = JSON.stringify([deck, groups.map((g) => g.picks.map((n) => [n.id, n.text])), t('photo.picks')])
    if (key === picksShown) return
    picksShown = key
    const body = picksPanel.body
    clear(body)
    const total = groups.reduce((n, g) => n + g.picks.length, 0)
    body.append(h('p', { class: 'hint' }, t('photo.picksSummary', { n: total })))
    if (deck.length === 0) return
    const list = h('ol', { class: 'photo-groups' })
    for (const g of groups) {
      const name = cardName(g.c, g.i)
      const headId = `photo-group-${g.i}`
      const picks = h('ul', { class: 'photo-group-picks', 'aria-labelledby': headId }, ...g.picks.map((n) => {
        const go = h('button', { type: 'button', class: 'photo-pick' }, n.text.trim() || t('note.empty'))
        go.addEventListener('click', () => host.notes.focus(n.id))
        return h('li', {}, go)
      }))
      list.append(h('li', { class: 'photo-group' },
        h('div', { class: 'photo-group-head' },
          h('div', { class: 'photo-group-thumb' }, image(g.c.asset, '')),
          h('h3', { id: headId }, name, ' ', h('span', { class: 'photo-count' }, t('photo.count', { n: g.picks.length })))),
        g.picks.length > 0 ? picks : h('p', { class: 'hint' }, t('photo.noPick'))))
    }
    body.append(list)
  }

  cleanups.push(deckPanel.onToggle((open) => { if (open) { delete deckPanel.body.dataset.shown; renderDeck() } }))
  cleanups.push(picksPanel.onToggle((open) => { if (open) { picksShown = ''; renderPicks() } }))
  cleanups.push(host.notes.onChange(() => renderPicks()))

  const metaObserver = (e: Y.YMapEvent<unknown>): void => {
    if (!e.keysChanged.has('deck')) return
    deck = readDeck(meta.get('deck'))
    draw()
    renderDeck()
    renderPicks()
  }
  meta.observe(metaObserver)
  cleanups.push(() => meta.unobserve(metaObserver))

  const relabel = (): void => {
    deckPanel.relabel()
    picksPanel.relabel()
    drawn = ''
    draw()
    delete deckPanel.body.dataset.shown
    renderDeck()
    picksShown = ''
    renderPicks()
  }
  relabel()
  // Once the board arrives (after the page fitted its items), show the deck and its picks.
  let arrived = false
  let frame = 0
  const offSync = ctx.sync.on(() => {
    if (arrived || !ctx.sync.synced) return
    arrived = true
    // Participants come to pick: the deck is open when they arrive (if there is one).
    if (!ctx.facilitator() && ctx.canEdit() && deck.length > 0 && !host.panels.some((p) => p.open)) deckPanel.show(true)
    frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => {
        if (deck.length === 0) return
        const [x, y] = cardAt(0, deck.length)
        const w = deck.length * CARD_W + (deck.length - 1) * GAP
        let r = { x, y, w, h: CARD_H + CAPTION + 24 + PICK_H }
        const notes = host.notes.bounds()
        if (notes) {
          const x1 = Math.max(r.x + r.w, notes.x + notes.w)
          const y1 = Math.max(r.y + r.h, notes.y + notes.h)
          r = { x: Math.min(r.x, notes.x), y: Math.min(r.y, notes.y), w: 0, h: 0 }
          r.w = x1 - r.x
          r.h = y1 - r.y
        }
        ctx.canvas.fit(r)
      })
    })
  })
  cleanups.push(offSync, () => cancelAnimationFrame(frame))

  return {
    relabel,
    destroy: () => {
      for (const off of cleanups) off()
      layer.remove()
      for (const p of [deckPanel, picksPanel]) { p.el.remove(); p.toggle.remove() }
    }
  }
}

/** A pick's asset, when the note is one. */
export function pickOf (note: NoteMap | undefined): string | null {
  const v = isNote(note) ? note.get(PICK) : null
  return typeof v === 'string' ? v : null
}

