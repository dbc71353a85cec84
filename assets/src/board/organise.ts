// The toolbar's controls for organising the board: grouping into a cluster, send to back, the
// facilitators' padlock (locks.ts), the "more actions" menu (copy, cut, paste, forward, backward, select all, dissolve a cluster,
// delete a cluster with its notes) and the voting controls. The toolbar (toolbar.ts) places
// them; each control says what it does, with its shortcut, to every user.
//
// The menu follows the WAI-ARIA menu button pattern: Enter, Space or a tap opens it, the arrow
// keys (and Home, End) move between its items, Escape or Tab closes it.

import { h } from '../dom'
import { t, type MessageKey } from '../i18n'
import type { BoardClipboard } from './clipboard'
import type { ClustersLayer } from './clusters'
import type { BoardContext } from './context'
import type { IconName } from './icons'
import type { NotesLayer } from './notes'
import { gateButton } from './facilitation'
import type { Locks } from './locks'
import type { ItemOps } from './operations'
import type { NoteColor } from './schema'
import { VotingControls, type Voting } from './voting'

/** The toolbar's button maker (toolbar.ts): id, icon, label, shortcut, action, extra class. */
export type ButtonFactory = (id: string, iconName: IconName, label: MessageKey, shortcut: string | null, onClick: () => void, cls?: string) => HTMLButtonElement

interface MenuEntry {
  id: string
  label: MessageKey
  shortcut: string | null
  run: () => void
  /** Whether it applies now. */
  enabled: () => boolean
}

export class OrganiseTools {
  readonly votingControls: VotingControls
  private cluster: HTMLButtonElement | null = null
  private back: HTMLButtonElement | null = null
  private moreButton: HTMLButtonElement | null = null
  private menu: HTMLElement | null = null
  private entries: Array<{ entry: MenuEntry, el: HTMLButtonElement }> = []
  private readonly onOutside = (e: PointerEvent): void => {
    const target = e.target as Node
    if (this.menu && !this.menu.hidden && !this.menu.contains(target) && !this.moreButton?.contains(target)) this.closeMenu(false)
  }

  constructor (
    private readonly ctx: BoardContext,
    private readonly ops: ItemOps,
    private readonly clipboard: BoardClipboard,
    private readonly clusters: ClustersLayer,
    private readonly notes: NotesLayer,
    voting: Voting,
    private readonly locks: Locks
  ) {
    this.votingControls = new VotingControls(ctx, voting)
    document.addEventListener('pointerdown', this.onOutside, true)
    ctx.selection.onChange(() => this.update())
    notes.onChange(() => this.votingControls.update())
  }

  destroy (): void {
    document.removeEventListener('pointerdown', this.onOutside, true)
    this.votingControls.destroy()
  }

  /** The button that groups the selection into a cluster (or adds an empty cluster). */
  clusterButton (button: ButtonFactory): HTMLButtonElement {
    this.cluster = button('cluster', 'cluster', 'toolbar.groupSelection', 'Ctrl+G', () => { this.clusters.groupSelection() })
    return this.cluster
  }

  /** Send to back, and the menu with the other actions on the selection. */
  arrangeControls (button: ButtonFactory): HTMLElement[] {
    this.back = button('back', 'toBack', 'toolbar.back', 'Ctrl+Shift+[', () => this.ops.sendToBack())
    const more = button('more', 'more', 'toolbar.more', null, () => this.toggleMenu())
    more.setAttribute('aria-haspopup', 'menu')
    more.setAttribute('aria-expanded', 'false')
    more.setAttribute('aria-controls', 'organise-menu')
    more.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault()
        this.openMenu(e.key === 'ArrowDown' ? 0 : -1)
      }
    })
    this.moreButton = more
    const lock = this.locks.button(button)
    const sel = (): boolean => this.ops.selected().length > 0
    const editable = (): boolean => this.ctx.canEdit()
    const clusterSelected = (): boolean => this.ctx.selection.list().some((id) => this.clusters.has(id))
    const menuEntries: MenuEntry[] = [
      { id: 'copy', label: 'toolbar.copy', shortcut: 'Ctrl+C', run: () => { void this.clipboard.copySelection(false) }, enabled: sel },
      { id: 'cut', label: 'toolbar.cut', shortcut: 'Ctrl+X', run: () => { void this.clipboard.copySelection(true) }, enabled: () => sel() && editable() },
      { id: 'paste', label: 'toolbar.paste', shortcut: 'Ctrl+V', run: () => { void this.clipboard.pasteFromClipboard() }, enabled: editable },
      { id: 'forward', label: 'toolbar.forward', shortcut: 'Ctrl+]', run: () => this.ops.bringForward(), enabled: () => sel() && editable() },
      { id: 'backward', label: 'toolbar.backward', shortcut: 'Ctrl+[', run: () => this.ops.sendBackward(), enabled: () => sel() && editable() },
      { id: 'selectAll', label: 'toolbar.selectAll', shortcut: 'Ctrl+A', run: () => this.ops.selectAll(), enabled: () => this.ops.allIds().length > 0 },
      { id: 'ungroup', label: 'toolbar.ungroup', shortcut: 'Ctrl+Shift+G', run: () => this.clusters.ungroupSelected(), enabled: () => clusterSelected() && editable() },
      { id: 'deleteCluster', label: 'toolbar.deleteWithNotes', shortcut: null, run: () => this.ops.deleteSelected({ withContents: true }), enabled: () => clusterSelected() && editable() }
    ]
    this.menu = h('div', { class: 'menu', id: 'organise-menu', role: 'menu', 'aria-label': t('toolbar.more') })
    this.menu.hidden = true
    this.entries = menuEntries.map((entry) => {
      const el = h('button', { type: 'button', class: 'menu-item', role: 'menuitem', tabindex: '-1', 'data-action': entry.id },
        h('span', { class: 'menu-label' }, t(entry.label)),
        entry.shortcut ? h('span', { class: 'menu-shortcut', 'aria-hidden': 'true' }, entry.shortcut) : null)
      if (entry.shortcut) el.setAttribute('aria-keyshortcuts', entry.shortcut.replace('Ctrl', 'Control'))
      el.addEventListener('click', () => {
        if (el.getAttribute('aria-disabled') === 'true') return
        this.closeMenu(true)
        entry.run()
      })
      this.menu?.append(el)
      return { entry, el }
    })
    this.menu.addEventListener('keydown', (e) => this.onMenuKey(e))
    this.update()
    return [this.back, lock, h('div', { class: 'menu-anchor' }, more, this.menu)]
  }

  /** Colours the selected notes and clusters (the toolbar's swatches). */
  color (color: NoteColor): void {
    this.notes.colorSelected(color)
    this.clusters.colorSelected(color)
  }

  /** Follows the selection and the board's editability. */
  update (): void {
    const editable = this.ctx.canEdit()
    const selected = this.ops.selected()
    const groupable = selected.some((id) => !this.clusters.has(id))
    if (this.cluster) {
      const label = t(groupable ? 'toolbar.groupSelection' : 'toolbar.addCluster')
      this.cluster.disabled = !editable
      this.cluster.title = `${label} (Ctrl+G)`
      const text = this.cluster.querySelector('.tool-label')
      if (text && text.textContent !== label) text.textContent = label
      // The current phase may not let participants add groups (facilitation.ts).
      gateButton(this.cluster, this.ctx.addRefusal('clusters'), `${label} (Ctrl+G)`)
    }
    if (this.back) this.back.disabled = !editable || selected.length === 0
    for (const { entry, el } of this.entries) el.setAttribute('aria-disabled', String(!entry.enabled()))
    this.votingControls.update()
    this.locks.update()
  }

  // ---- the menu --------------------------------------------------------------------------

  private toggleMenu (): void {
    if (this.menu?.hidden === false) this.closeMenu(true)
    else this.openMenu(0)
  }

  private openMenu (index: number): void {
    if (!this.menu || !this.moreButton) return
    this.update()
    this.menu.hidden = false
    this.moreButton.setAttribute('aria-expanded', 'true')
    this.focusItem(index < 0 ? this.entries.length - 1 : index)
  }

  private closeMenu (refocus: boolean): void {
    if (!this.menu || this.menu.hidden) return
    this.menu.hidden = true
    this.moreButton?.setAttribute('aria-expanded', 'false')
    if (refocus) this.moreButton?.focus()
  }

  private focusItem (index: number): void {
    const n = this.entries.length
    this.entries[((index % n) + n) % n]?.el.focus()
  }

  private onMenuKey (e: KeyboardEvent): void {
    const at = this.entries.findIndex(({ el }) => el === document.activeElement)
    if (e.key === 'ArrowDown') this.focusItem(at + 1)
    else if (e.key === 'ArrowUp') this.focusItem(at - 1)
    else if (e.key === 'Home') this.focusItem(0)
    else if (e.key === 'End') this.focusItem(-1)
    else if (e.key === 'Escape') this.closeMenu(true)
    else if (e.key === 'Tab') { this.closeMenu(false); return }
    else return
    e.preventDefault()
    e.stopPropagation()
  }
}
