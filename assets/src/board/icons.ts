// Toolbar icons: simple strokes on a 24×24 grid, drawn as SVG nodes (decorative: the buttons
// carry the text).

import { svg } from '../dom'

const PATHS = {
  note: 'M4 4h16v11l-5 5H4z M15 20v-5h5',
  box: 'M4 4h4 M12 4h4 M20 4v4 M20 12v4 M20 20h-4 M12 20H8 M4 20v-4 M4 12V8',
  undo: 'M9 14 4 9l5-5 M4 9h10a6 6 0 0 1 0 12h-3',
  redo: 'M15 14l5-5-5-5 M20 9H10a6 6 0 0 0 0 12h3',
  trash: 'M4 7h16 M10 11v6 M14 11v6 M6 7l1 13h10l1-13 M9 7V4h6v3',
  duplicate: 'M8 8h12v12H8z M4 16V4h12',
  front: 'M12 20V8 M7 13l5-5 5 5 M4 4h16',
  zoomIn: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14 M20 20l-4-4 M11 8v6 M8 11h6',
  zoomOut: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14 M20 20l-4-4 M8 11h6',
  fit: 'M4 9V4h5 M15 4h5v5 M20 15v5h-5 M9 20H4v-5',
  outline: 'M9 6h11 M9 12h11 M9 18h11 M4 6h1 M4 12h1 M4 18h1',
  leave: 'M14 4h6v16h-6 M10 8l-4 4 4 4 M6 12h10',
  back: 'M15 6l-6 6 6 6'
} as const

export type IconName = keyof typeof PATHS

export function icon (name: IconName): SVGSVGElement {
  return svg('svg', {
    viewBox: '0 0 24 24',
    width: 24,
    height: 24,
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': 2,
    'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
    'aria-hidden': 'true',
    focusable: 'false',
    class: 'icon'
  }, svg('path', { d: PATHS[name] }))
}
