// Tiny DOM helpers. No innerHTML anywhere: text is always set as text, and no style attribute is
// ever written (the Content-Security-Policy forbids inline styles; element.style is allowed).

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>

/** Creates an element: h('button', { type: 'button', onclick: fn, 'aria-label': '…' }, 'text', child). */
export function h<K extends keyof HTMLElementTagNameMap> (
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Node | string | null | undefined | false>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value)
    } else if (key === 'class') {
      el.className = String(value)
    } else if (key === 'style') {
      throw new Error('h(): set styles through element.style, not an attribute')
    } else if (value === true) {
      el.setAttribute(key, '')
    } else {
      el.setAttribute(key, String(value))
    }
  }
  append(el, ...children)
  return el
}

export function append (parent: Node, ...children: Array<Node | string | null | undefined | false>): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child)
  }
}

/** Removes every child of `el`. */
export function clear (el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild)
}

const SVG_NS = 'http://www.w3.org/2000/svg'

export function svg<K extends keyof SVGElementTagNameMap> (tag: K, attrs: Record<string, string | number> = {}, ...children: SVGElement[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag)
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value))
  for (const child of children) el.appendChild(child)
  return el
}

/** A visually hidden live region message for screen readers. */
export function announce (message: string): void {
  const region = document.getElementById('announcer')
  if (!region) return
  region.textContent = ''
  // A fresh text node in a later frame makes screen readers read the same message twice too.
  requestAnimationFrame(() => { region.textContent = message })
}
