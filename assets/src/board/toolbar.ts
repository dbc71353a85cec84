// The board's toolbar (add a note, group into a cluster, box and lasso selection for touch,
// undo/redo, colour, stacking order, more actions, duplicate, delete, dot voting: organise.ts
// and voting.ts build theirs) and the zoom controls. Every button has a text label for assistive technologies and a
// tooltip with its shortcut; targets are at least 44 px.

import { h } from '../dom'
import { colorLabel, t, type MessageKey } from '../i18n'
import { ZOOM_LABEL_MS } from './canvas'
import type { BoardContext } from './context'
import { gateButton } from './facilitation'
import { icon, type IconName } from './icons'
import type { NotesLayer } from './notes'
import type { ItemOps } from './operations'
import type { OrganiseTools } from './organise'
import { NOTE_COLORS } from './schema'

export class Toolbar {
  readonly el: HTMLElement
  readonly zoomEl: HTMLElement
  boxMode = false
  /** Drags on the background draw a lasso (any pointer; Alt held does it too). */
  lassoMode = false
  private buttons = new Map<string, HTMLButtonElement>()
  private swatches: HTMLButtonElement[] = []
  private zoomLabel: HTMLElement | null = null
  /** Groups placed after the voting controls (the facilitators' tools: pages/board.ts). */
  readonly extras: HTMLElement[] = []

  constructor (private readonly ctx: BoardContext, private readonly notes: NotesLayer, private readonly ops: ItemOps, private readonly organise: OrganiseTools) {
    this.el = h('div', { class: 'toolbar', role: 'toolbar' })
    this.zoomEl = h('div', { class: 'zoom-controls', role: 'group' })
    this.build()
    ctx.selection.onChange(() => this.update())
    ctx.undo.on('stack-item-added', () => this.update())
    ctx.undo.on('stack-item-popped', () => this.update())
    ctx.undo.on('stack-cleared', () => this.update())
    ctx.canvas.onChangeEvery(ZOOM_LABEL_MS, () => this.updateZoom())
  }

  private button (id: string, iconName: IconName, label: MessageKey, shortcut: string | null, onClick: () => void, cls = ''): HTMLButtonElement {
    const text = t(label)
    const b = h('button', {
      type: 'button',
      class: `tool ${cls}`,
      'data-tool': id,
      title: shortcut ? `${text} (${shortcut})` : text
    }, icon(iconName), h('span', { class: 'tool-label' }, text))
    if (shortcut) b.setAttribute('aria-keyshortcuts', shortcut.replace('Ctrl', 'Control'))
    b.addEventListener('click', onClick)
    this.buttons.set(id, b)
    return b
  }

  /** (Re)builds the controls in the current language. */
  build (): void {
    this.buttons.clear()
    this.el.replaceChildren()
    this.zoomEl.replaceChildren()
    this.el.setAttribute('aria-label', t('toolbar.label'))
    this.zoomEl.setAttribute('aria-label', t('toolbar.zoomLabel'))
    const n = this.notes
    const add = this.button('add', 'note', 'toolbar.addNote', 'N', () => {
      const [x, y] = this.ctx.canvas.center()
      n.create(x, y)
    }, 'primary')
    const box = this.button('box', 'box', 'toolbar.boxSelect', null, () => {
      this.boxMode = !this.boxMode
      if (this.boxMode) this.lassoMode = false
      this.update()
    })
    const lasso = this.button('lasso', 'lasso', 'toolbar.lasso', null, () => {
      this.lassoMode = !this.lassoMode
      if (this.lassoMode) this.boxMode = false
      this.update()
    })
    const colors = h('div', { class: 'swatches', role: 'group', 'aria-label': t('toolbar.color') })
    this.swatches = NOTE_COLORS.map((c) => {
      const s = h('button', { type: 'button', class: 'swatch', 'data-color': c, 'aria-label': colorLabel(c), title: colorLabel(c) })
      s.addEventListener('click', () => { this.organise.color(c); this.update() })
      colors.append(s)
      return s
    })
    this.el.append(
      h('div', { class: 'tool-group' }, add, this.organise.clusterButton(this.button.bind(this))),
      h('div', { class: 'tool-group' }, box, lasso),
      h('div', { class: 'tool-group' },
        this.button('undo', 'undo', 'toolbar.undo', 'Ctrl+Z', () => this.ctx.undo.undo()),
        this.button('redo', 'redo', 'toolbar.redo', 'Ctrl+Shift+Z', () => this.ctx.undo.redo())),
      colors,
      h('div', { class: 'tool-group' },
        this.button('front', 'front', 'toolbar.front', 'Ctrl+Shift+]', () => this.ops.bringToFront()),
        ...this.organise.arrangeControls(this.button.bind(this)),
        this.button('duplicate', 'duplicate', 'toolbar.duplicate', 'Ctrl+D', () => this.ops.duplicateSelected()),
        this.button('delete', 'trash', 'toolbar.delete', 'Delete', () => this.ops.deleteSelected())),
      this.organise.votingControls.el,
      ...this.extras)
    this.organise.votingControls.build()
    this.zoomLabel = h('span', { class: 'zoom-level', 'aria-live': 'off' })
    this.zoomEl.append(
      this.button('zoomOut', 'zoomOut', 'toolbar.zoomOut', '-', () => this.ctx.canvas.zoomBy(1 / 1.25)),
      this.zoomLabel,
      this.button('zoomIn', 'zoomIn', 'toolbar.zoomIn', '+', () => this.ctx.canvas.zoomBy(1.25)),
      this.button('fit', 'fit', 'toolbar.fit', 'Shift+1', () => this.ctx.canvas.fit(this.ops.bounds())))
    this.update()
    this.updateZoom()
  }

  update (): void {
    const editable = this.ctx.canEdit()
    const selected = this.ctx.selection.size > 0
    const set = (id: string, enabled: boolean): void => {
      const b = this.buttons.get(id)
      if (b) b.disabled = !enabled
    }
    set('add', editable)
    // The current phase may not let participants add notes: the button says so (facilitation.ts).
    gateButton(this.buttons.get('add'), this.ctx.addRefusal('notes'), `${t('toolbar.addNote')} (N)`)
    set('undo', editable && this.ctx.undo.canUndo())
    set('redo', editable && this.ctx.undo.canRedo())
    set('front', editable && selected)
    set('duplicate', editable && selected)
    set('delete', editable && selected)
    const box = this.buttons.get('box')
    box?.setAttribute('aria-pressed', String(this.boxMode))
    this.buttons.get('lasso')?.setAttribute('aria-pressed', String(this.lassoMode))
    this.organise.update()
    for (const s of this.swatches) {
      s.disabled = !editable
      s.setAttribute('aria-pressed', String(s.dataset.color === this.ctx.noteColor))
    }
  }

  private updateZoom (): void {
    // Follows the moving view (every 100 ms): only a changed text touches the DOM (a layout).
    const text = `${Math.round(this.ctx.canvas.view.scale * 100)} %`
    if (this.zoomLabel && this.zoomLabel.textContent !== text) this.zoomLabel.textContent = text
  }
}
