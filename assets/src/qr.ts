// A QR code as an SVG element (built node by node: no markup strings, nothing inline).

import qrcode from 'qrcode-generator'
import { svg } from './dom'

/** Draws `text` as a QR code, `label` naming it for assistive technologies. */
export function qrSvg (text: string, label: string): SVGSVGElement {
  const qr = qrcode(0, 'M')
  qr.addData(text, 'Byte')
  qr.make()
  const n = qr.getModuleCount()
  const margin = 4
  const size = n + margin * 2
  // One path of unit squares: compact and crisp at any size.
  let d = ''
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (qr.isDark(row, col)) d += `M${col + margin} ${row + margin}h1v1h-1z`
    }
  }
  const el = svg('svg', {
    viewBox: `0 0 ${size} ${size}`,
    class: 'qr',
    role: 'img',
    'aria-label': label,
    'shape-rendering': 'crispEdges'
  },
  svg('rect', { width: size, height: size, fill: '#ffffff' }),
  svg('path', { d, fill: '#000000' }))
  return el
}
