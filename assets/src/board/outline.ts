// The outline: the board as a list a screen reader can walk (and anyone can use to find a
// note): each cluster with its title, its number of notes and dots, and its notes nested under
// it, then the notes in no cluster; each note with its text, colour and dots. Clusters and notes
// come in reading order (top to bottom, left to right), or by dots once results are shown and
// "sort by dots" is pressed. Activating an entry selects that item on the canvas, brings it into
// view and focuses it.

import { clear, h } from '../dom'
import { colorLabel, t } from '../i18n'
import type { ClustersLayer } from './clusters'
import type { BoardContext } from './context'
import type { NotesLayer } from './notes'
import type { ClusterData, NoteData } from './schema'
import type { Voting } from './voting'

interface Group { cluster: ClusterData, notes: NoteData[], votes: number }

export class Outline {
  readonly el: HTMLElement
  private readonly list: HTMLElement
  private readonly heading: HTMLElement
  private readonly count: HTMLElement
  private readonly sortButton: HTMLButtonElement
  private sortByVotes = false
  private frame = 0
  /** What the list shows, to rebuild it only when that changes (not on every move). */
  private shown = ''
  private readonly cleanups: Array<() => void> = []
  /** This participant's private notes during a silent phase (private.ts), listed apart. */
  private privateNotes: NotesLayer | null = null
  private offPrivate: (() => void) | null = null

  constructor (private readonly ctx: BoardContext, private readonly notes: NotesLayer, private readonly clusters: ClustersLayer, private readonly voting: Voting) {
    this.heading = h('h2', { id: 'outline-heading' })
    this.count = h('p', { class: 'hint' })
    this.sortButton = h('button', { type: 'button', class: 'secondary outline-sort', 'aria-pressed': 'false' })
    this.sortButton.addEventListener('click', () => {
      this.sortByVotes = !this.sortByVotes
      this.render()
    })
    this.list = h('ol', { class: 'outline-list', 'aria-labelledby': 'outline-heading' })
    this.el = h('aside', { class: 'outline', id: 'board-outline', 'aria-labelledby': 'outline-heading' }, this.heading, this.count, this.sortButton, this.list)
    const schedule = (): void => this.schedule()
    this.cleanups.push(notes.onChange(schedule), clusters.onChange(schedule), ctx.selection.onChange(schedule), voting.onChange(schedule))
    this.render()
  }

  private schedule (): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render() })
  }

  destroy (): void {
    cancelAnimationFrame(this.frame)
    for (const off of this.cleanups) off()
    this.offPrivate?.()
  }

  /** Lists these private notes too (null: none, the silent phase is over). */
  setPrivate (layer: NotesLayer | null): void {
    this.offPrivate?.()
    this.offPrivate = layer ? layer.onChange(() => this.schedule()) : null
    this.privateNotes = layer
    this.schedule()
  }

  render (): void {
    this.heading.textContent = t('outline.title')
    const totals = this.voting.showTotals()
    const all = this.notes.all()
    const canSort = totals && all.some((n) => n.votes > 0)
    const byVotes = canSort && this.sortByVotes
    const noteOrder = byVotes ? byDots : readingOrder
    const groups: Group[] = this.clusters.all().map((cluster) => {
      const members = all.filter((n) => n.parent === cluster.id).sort(noteOrder)
      return { cluster, notes: members, votes: members.reduce((sum, n) => sum + n.votes, 0) }
    })
    groups.sort((a, b) => (byVotes ? b.votes - a.votes : 0) || readingOrder(a.cluster, b.cluster))
    const grouped = new Set(groups.flatMap((g) => g.notes.map((n) => n.id)))
    const loose = all.filter((n) => !grouped.has(n.id)).sort(noteOrder)
    const privateLayer = this.privateNotes
    const mine = (privateLayer?.all() ?? []).sort(readingOrder)
    const signature = JSON.stringify([
      mine.map((n) => this.noteKey(n)),
      t('outline.title'), totals, canSort, byVotes,
      groups.map((g) => [g.cluster.id, g.cluster.title, g.cluster.color, this.ctx.selection.has(g.cluster.id), g.notes.map((n) => this.noteKey(n))]),
      loose.map((n) => this.noteKey(n))
    ])
    if (signature === this.shown) return
    this.shown = signature
    this.count.textContent = groups.length > 0
      ? t('outline.summary', { clusters: t('outline.clusters', { n: groups.length }), notes: t('outline.count', { n: all.length }) })
      : t('outline.count', { n: all.length })
    this.sortButton.hidden = !canSort
    this.sortButton.textContent = t('outline.sortVotes')
    this.sortButton.setAttribute('aria-pressed', String(byVotes))
    // Keep the focused entry focused across re-renders.
    const focusedId = (document.activeElement as HTMLElement | null)?.dataset?.outlineId
    const refocus: HTMLElement[] = []
    clear(this.list)
    let number = 0
    const noteItem = (n: NoteData, layer: NotesLayer = this.notes): HTMLElement => {
      number++
      const text = n.text.trim() === '' ? t('note.empty') : n.text.trim()
      const details = [colorLabel(n.color)]
      if (layer !== this.notes) details.push(t('silent.badge'))
      if (layer.isHidden(n.id)) details.push(t('note.hidden'))
      if (totals && n.votes > 0) details.push(t('vote.total', { n: n.votes }))
      const button = this.entry(n.id, t('outline.item', { n: number, text, details: details.join(', ') }),
        h('span', { class: 'outline-swatch', 'data-color': n.color, 'aria-hidden': 'true' }),
        h('span', { class: 'outline-text' }, text),
        totals && n.votes > 0 ? h('span', { class: 'outline-votes', 'aria-hidden': 'true' }, h('span', { class: 'dot' }), String(n.votes)) : null)
      button.addEventListener('click', () => layer.focus(n.id))
      if (n.id === focusedId) refocus.push(button)
      return h('li', {}, button)
    }
    for (const g of groups) {
      const title = g.cluster.title.trim() || t('cluster.untitled')
      const details = [t('cluster.notes', { n: g.notes.length })]
      if (totals && g.votes > 0) details.push(t('vote.total', { n: g.votes }))
      const button = this.entry(g.cluster.id, t('outline.cluster', { title, details: details.join(', ') }),
        h('span', { class: 'outline-text outline-cluster-title' }, title),
        h('span', { class: 'outline-count', 'aria-hidden': 'true' }, details.join(' · ')))
      button.classList.add('outline-cluster')
      button.dataset.color = g.cluster.color
      button.addEventListener('click', () => this.clusters.focus(g.cluster.id))
      if (g.cluster.id === focusedId) refocus.push(button)
      const members = h('ol', { class: 'outline-list outline-members', 'aria-label': t('outline.members', { title }) }, ...g.notes.map((n) => noteItem(n)))
      this.list.append(h('li', { class: 'outline-group' }, button, g.notes.length > 0 ? members : null))
    }
    if (groups.length > 0 && loose.length > 0) {
      const id = 'outline-loose'
      this.list.append(h('li', { class: 'outline-group' },
        h('h3', { class: 'outline-subhead', id }, t('outline.ungrouped')),
        h('ol', { class: 'outline-list outline-members', 'aria-labelledby': id }, ...loose.map((n) => noteItem(n)))))
    } else {
      this.list.append(...loose.map((n) => noteItem(n)))
    }
    if (privateLayer && mine.length > 0) {
      const id = 'outline-private'
      this.list.append(h('li', { class: 'outline-group' },
        h('h3', { class: 'outline-subhead', id }, t('outline.private')),
        h('ol', { class: 'outline-list outline-members', 'aria-labelledby': id }, ...mine.map((n) => noteItem(n, privateLayer)))))
    }
    refocus[0]?.focus({ preventScroll: true })
  }

  private noteKey (n: NoteData): unknown[] {
    return [n.id, n.text, n.color, n.votes, this.ctx.selection.has(n.id), this.notes.isHidden(n.id)]
  }

  private entry (id: string, label: string, ...children: Array<Node | null>): HTMLButtonElement {
    const button = h('button', {
      type: 'button',
      class: 'outline-item',
      'data-outline-id': id,
      'aria-current': this.ctx.selection.has(id) ? 'true' : null
    }, ...children)
    button.setAttribute('aria-label', label)
    return button
  }
}

function readingOrder (a: { x: number, y: number, h: number, id: string }, b: { x: number, y: number, h: number, id: string }): number {
  // Rows of roughly one note's height, then left to right.
  const row = (n: { y: number, h: number }): number => Math.floor((n.y + Math.min(n.h, 160) / 2) / 120)
  return row(a) - row(b) || a.x - b.x || (a.id < b.id ? -1 : 1)
}

function byDots (a: NoteData, b: NoteData): number {
  return b.votes - a.votes || readingOrder(a, b)
}
