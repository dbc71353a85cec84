// A side panel of the board (the facilitators' agenda and versions): beside the canvas on wide
// screens, over its right side on tablets; opened and closed by a toolbar button (aria-expanded),
// Escape or its close button (focus goes back to the button). Panels of one group are open one at
// a time.

import { h } from '../dom'
import { t, type MessageKey } from '../i18n'
import { icon, type IconName } from './icons'

export class SidePanel {
  readonly el: HTMLElement
  readonly body: HTMLElement
  readonly toggle: HTMLButtonElement
  private readonly heading: HTMLElement
  private readonly closeButton: HTMLButtonElement
  private readonly listeners = new Set<(open: boolean) => void>()

  constructor (readonly id: string, private readonly title: MessageKey, private readonly iconName: IconName, private readonly group: SidePanel[]) {
    this.heading = h('h2', { class: 'side-panel-title', id: `${id}-title`, tabindex: '-1' })
    this.closeButton = h('button', { type: 'button', class: 'tool side-panel-close' })
    this.body = h('div', { class: 'side-panel-body' })
    this.el = h('aside', { class: 'side-panel', id, 'aria-labelledby': `${id}-title` },
      h('div', { class: 'side-panel-head' }, this.heading, this.closeButton), this.body)
    this.el.hidden = true
    this.toggle = h('button', { type: 'button', class: 'tool', 'aria-controls': id, 'aria-expanded': 'false', 'data-panel': id })
    this.toggle.addEventListener('click', () => this.show(this.el.hidden))
    this.closeButton.addEventListener('click', () => this.show(false, true))
    this.el.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return
      e.preventDefault()
      e.stopPropagation()
      this.show(false, true)
    })
    group.push(this)
    this.relabel()
  }

  get open (): boolean { return !this.el.hidden }

  /** Called when the panel opens or closes. */
  onToggle (fn: (open: boolean) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  show (open: boolean, refocus = false): void {
    if (open === this.open) return
    if (open) for (const other of this.group) if (other !== this) other.show(false)
    this.el.hidden = !open
    this.toggle.setAttribute('aria-expanded', String(open))
    this.toggle.setAttribute('aria-pressed', String(open))
    for (const fn of this.listeners) fn(open)
    if (open) this.heading.focus({ preventScroll: true })
    else if (refocus || this.el.contains(document.activeElement)) this.toggle.focus({ preventScroll: true })
  }

  relabel (): void {
    const title = t(this.title)
    this.heading.textContent = title
    this.toggle.replaceChildren(icon(this.iconName), h('span', { class: 'tool-label' }, title))
    this.toggle.title = title
    this.closeButton.replaceChildren(icon('close'), h('span', { class: 'visually-hidden' }, t('panel.close', { title })))
    this.closeButton.title = t('common.close')
  }
}
