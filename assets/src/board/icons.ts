// Toolbar icons: simple strokes on a 24×24 grid, drawn as SVG nodes (decorative: the buttons
// carry the text).

import { svg } from '../dom'

const PATHS = {
  note: 'M4 4h16v11l-5 5H4z M15 20v-5h5',
  // Drawing tools (tools.ts).
  select: 'M5 3l14 8-6 2-3 6z M13 13l5 6',
  pen: 'M4 20l1-5L16 4l4 4L9 19z M14 6l4 4 M4 20h6',
  eraser: 'M9 20l-5-5L14 5l6 6-9 9z M9 10l5 5 M9 20h11',
  rect: 'M4 6h16v12H4z',
  ellipse: 'M12 5c4.4 0 8 3.1 8 7s-3.6 7-8 7-8-3.1-8-7 3.6-7 8-7z',
  arrow: 'M5 19L19 5 M10 5h9v9',
  text: 'M5 6V4h14v2 M12 4v16 M9 20h6',
  frame: 'M7 3v18 M17 3v18 M3 7h18 M3 17h18',
  image: 'M4 5h16v14H4z M4 16l5-5 4 4 3-3 4 4 M15.5 8.5h.01',
  fill: 'M12 3l8 8-7 7-8-8z M5 10h14 M20 16c0 1.5-1 3-2 3s-2-1.5-2-3 2-3 2-3 2 1.5 2 3z',
  box: 'M4 4h4 M12 4h4 M20 4v4 M20 12v4 M20 20h-4 M12 20H8 M4 20v-4 M4 12V8',
  undo: 'M9 14 4 9l5-5 M4 9h10a6 6 0 0 1 0 12h-3',
  redo: 'M15 14l5-5-5-5 M20 9H10a6 6 0 0 0 0 12h3',
  trash: 'M4 7h16 M10 11v6 M14 11v6 M6 7l1 13h10l1-13 M9 7V4h6v3',
  duplicate: 'M8 8h12v12H8z M4 16V4h12',
  front: 'M12 20V8 M7 13l5-5 5 5 M4 4h16',
  // Organising (organise.ts, voting.ts, toolbar's lasso).
  toBack: 'M12 4v12 M7 11l5 5 5-5 M4 20h16',
  cluster: 'M3 4h18v16H3z M3 8h18 M7 12h4v4H7z M13 12h4v4h-4z',
  lasso: 'M12 4c5 0 9 2.2 9 5s-4 5-9 5-9-2.2-9-5 4-5 9-5z M7 13c-1 2 0 4 2 4s3 1 2 3',
  more: 'M4.5 12a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0 M10.5 12a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0 M16.5 12a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0',
  vote: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18 M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6',
  zoomIn: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14 M20 20l-4-4 M11 8v6 M8 11h6',
  zoomOut: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14 M20 20l-4-4 M8 11h6',
  fit: 'M4 9V4h5 M15 4h5v5 M20 15v5h-5 M9 20H4v-5',
  outline: 'M9 6h11 M9 12h11 M9 18h11 M4 6h1 M4 12h1 M4 18h1',
  leave: 'M14 4h6v16h-6 M10 8l-4 4 4 4 M6 12h10',
  back: 'M15 6l-6 6 6 6',
  summon: 'M4 4l5 5 M20 4l-5 5 M4 20l5-5 M20 20l-5-5 M9 5v4H5 M15 5v4h4 M9 19v-4H5 M15 19v-4h4',
  minimap: 'M3 6l6-2 6 2 6-2v14l-6 2-6-2-6 2z M9 4v14 M15 6v14',
  close: 'M6 6l12 12 M18 6L6 18',
  // Facilitation (locks.ts, phases.ts, timer.ts, versions.ts).
  lock: 'M6 11h12v9H6z M8 11V8a4 4 0 0 1 8 0v3 M12 15v2',
  unlock: 'M6 11h12v9H6z M8 11V8a4 4 0 0 1 7.5-2 M12 15v2',
  agenda: 'M8 6h12 M8 12h12 M8 18h12 M3.5 5l1 1 2-2 M3.5 11l1 1 2-2 M4 18h1',
  timer: 'M12 8a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13 M12 11v3.5l2 1.5 M10 3h4 M12 3v5',
  history: 'M4 12a8 8 0 1 0 2.3-5.6 M4 4v4h4 M12 8v4l3 2',
  play: 'M8 5l11 7-11 7z',
  pause: 'M8 5v14 M16 5v14',
  plus: 'M12 5v14 M5 12h14',
  reset: 'M4 12a8 8 0 1 0 2.3-5.6 M4 4v4h4',
  next: 'M5 5l7 7-7 7 M13 5l7 7-7 7',
  previous: 'M19 5l-7 7 7 7 M11 5l-7 7 7 7',
  stop: 'M6 6h12v12H6z',
  sound: 'M4 9h4l5-4v14l-5-4H4z M16 9a4 4 0 0 1 0 6 M18.5 6.5a8 8 0 0 1 0 11',
  soundOff: 'M4 9h4l5-4v14l-5-4H4z M16 9l5 6 M21 9l-5 6',
  download: 'M12 4v11 M7 10l5 5 5-5 M5 20h14',
  view: 'M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7-10-7-10-7z M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6',
  up: 'M12 19V5 M6 11l6-6 6 6',
  down: 'M12 5v14 M6 13l6 6 6-6',
  refresh: 'M20 12a8 8 0 1 1-2.3-5.6 M20 4v4h-4',
  // grouped cards and a spark (clustering suggestions)
  suggest: 'M3 12h7v8H3z M14 12h7v8h-7z M3 16h7 M14 16h7 M12 2.5l1 2.5 2.5 1-2.5 1-1 2.5-1-2.5L8.5 6 11 5z',
  grid: 'M4 4h16v16H4z M4 10h16 M4 15h16 M10 4v16 M15 4v16'
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
