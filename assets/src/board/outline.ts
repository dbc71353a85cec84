// The outline: the board as a list a screen reader can walk (and anyone can use to find a
// note): every note in reading order (top to bottom, left to right) with its text, colour and
// votes. Activating an entry selects the note on the canvas and brings it into view.
// Clusters will nest their notes here.

import { clear, h } from '../dom'
import { colorLabel, t } from '../i18n'
import type { BoardContext } from './context'
import type { NotesLayer } from './notes'
import type { NoteData } from './schema'

export class Outline {
  readonly el: HTMLElement
  private readonly list: HTMLElement
  private readonly heading: HTMLElement
  private readonly count: HTMLElement
  private frame = 0
  /** What the list shows, to rebuild it only when that changes (not on every move). */
  private shown = ''

  constructor (private readonly ctx: BoardContext, private readonly notes: NotesLayer) {
    this.heading = h('h2', { id: 'outline-heading' })
    this.count = h('p', { class: 'hint' })
    this.list = h('ol', { class: 'outline-list', 'aria-labelledby': 'outline-heading' })
    this.el = h('aside', { class: 'outline', id: 'board-outline', 'aria-labelledby': 'outline-heading' }, this.heading, this.count, this.list)
    notes.onChange(() => this.schedule())
    ctx.selection.onChange(() => this.schedule())
    this.render()
  }

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render() })
  }

  destroy (): void { cancelAnimationFrame(this.frame) }

  render (): void {
    this.heading.textContent = t('outline.title')
    const notes = [...this.notes.all()].sort(readingOrder)
    const signature = JSON.stringify([t('outline.title'), notes.map((n) => [n.id, n.text, n.color, n.votes, this.ctx.selection.has(n.id)])])
    if (signature === this.shown) return
    this.shown = signature
    this.count.textContent = t('outline.count', { n: notes.length })
    // Keep the focused entry focused across re-renders.
    const focusedId = (document.activeElement as HTMLElement | null)?.dataset?.outlineId
    clear(this.list)
    notes.forEach((n, i) => {
      const text = n.text.trim() === '' ? t('note.empty') : n.text.trim()
      const details = [colorLabel(n.color)]
      if (n.votes > 0) details.push(t('outline.votes', { n: n.votes }))
      const button = h('button', {
        type: 'button',
        class: 'outline-item',
        'data-outline-id': n.id,
        'aria-current': this.ctx.selection.has(n.id) ? 'true' : null
      },
      h('span', { class: 'outline-swatch', 'data-color': n.color, 'aria-hidden': 'true' }),
      h('span', { class: 'outline-text' }, text))
      button.setAttribute('aria-label', t('outline.item', { n: i + 1, text, details: details.join(', ') }))
      button.addEventListener('click', () => this.activate(n))
      this.list.append(h('li', {}, button))
      if (n.id === focusedId) button.focus({ preventScroll: true })
    })
  }

  private activate (n: NoteData): void {
    this.ctx.selection.set([n.id])
    this.ctx.canvas.reveal({ x: n.x, y: n.y, w: n.w, h: n.h }, 64)
    this.notes.element(n.id)?.focus({ preventScroll: true })
  }
}

function readingOrder (a: NoteData, b: NoteData): number {
  // Rows of roughly one note's height, then left to right.
  const row = (n: NoteData): number => Math.floor((n.y + n.h / 2) / 120)
  return row(a) - row(b) || a.x - b.x || (a.id < b.id ? -1 : 1)
}
