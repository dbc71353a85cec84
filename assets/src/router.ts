// Client-side routing over the History API. The server answers the same index.html at each of
// these paths (server/src/ui.rs), so a reload or a shared link lands on the right page.

export type Route =
  | { name: 'home' }
  | { name: 'project', id: string }
  | { name: 'board', id: string }
  | { name: 'join', token: string }
  | { name: 'templates' }
  | { name: 'template', id: string }
  | { name: 'notFound' }

const ID = '([A-Za-z0-9_-]{1,128})'
const patterns: Array<[RegExp, (m: RegExpMatchArray) => Route]> = [
  [/^\/$/, () => ({ name: 'home' })],
  [new RegExp(`^/projects/${ID}$`), (m) => ({ name: 'project', id: m[1] })],
  [new RegExp(`^/boards/${ID}$`), (m) => ({ name: 'board', id: m[1] })],
  [new RegExp(`^/join/${ID}$`), (m) => ({ name: 'join', token: m[1] })],
  [/^\/templates$/, () => ({ name: 'templates' })],
  [new RegExp(`^/templates/${ID}$`), (m) => ({ name: 'template', id: m[1] })]
]

export function parseRoute (pathname: string): Route {
  for (const [re, make] of patterns) {
    const m = pathname.match(re)
    if (m) return make(m)
  }
  return { name: 'notFound' }
}

export const paths = {
  home: () => '/',
  project: (id: string) => `/projects/${encodeURIComponent(id)}`,
  board: (id: string) => `/boards/${encodeURIComponent(id)}`,
  templates: () => '/templates',
  template: (id: string) => `/templates/${encodeURIComponent(id)}`
}

let listener: (route: Route) => void = () => {}

export function navigate (path: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  listener(parseRoute(location.pathname))
}

/** Starts routing: renders the current path, then every navigation (links, back, forward). */
export function startRouter (render: (route: Route) => void): void {
  listener = render
  window.addEventListener('popstate', () => render(parseRoute(location.pathname)))
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const a = (event.target as Element | null)?.closest?.('a')
    if (!a || a.target || a.hasAttribute('download')) return
    const url = new URL(a.href, location.href)
    if (url.origin !== location.origin || parseRoute(url.pathname).name === 'notFound') return
    event.preventDefault()
    navigate(url.pathname)
  })
  render(parseRoute(location.pathname))
}
