// Entry point: the app shell (header, language switch, sign-out), routing to the pages.

import { setUnauthenticatedHandler } from './api'
import { announce, clear, h } from './dom'
import { applyLanguage, onLanguageChange, t } from './i18n'
import { renderBoardPage } from './pages/board'
import { renderJoinPage } from './pages/join'
import { renderProjectPage } from './pages/project'
import { renderProjectsPage } from './pages/projects'
import { renderSignIn } from './pages/signin'
import { renderTemplatePage, renderTemplatesPage } from './pages/templates'
import { navigate, parseRoute, startRouter, type Route } from './router'
import { clearSession, currentSession } from './session'
import { languageSwitch, setFlash, signOut, takeFlash } from './shell'

/** What a page leaves behind to tear down when the route changes. */
type Cleanup = () => void

let cleanup: Cleanup | null = null
let current: Route = parseRoute(location.pathname)

function render (route: Route): void {
  current = route
  if (cleanup) {
    try { cleanup() } catch (err) { console.error(err) }
    cleanup = null
  }
  const app = document.getElementById('app')
  if (!app) return
  clear(app)
  applyLanguage()
  document.body.classList.toggle('on-board', route.name === 'board')
  const session = currentSession()
  const main = h('main', { id: 'main', tabindex: '-1' })
  const fullBleed = route.name === 'board' && session !== null
  if (!fullBleed) app.append(header(route))
  app.append(main, h('div', { id: 'announcer', class: 'visually-hidden', 'aria-live': 'polite', role: 'status' }))
  if (!fullBleed) app.append(footer())
  const flash = takeFlash()
  if (flash) main.append(h('p', { class: 'flash', role: 'status' }, flash))

  if (route.name === 'join') {
    cleanup = renderJoinPage(main, route.token)
  } else if (!session) {
    document.title = t('signin.title')
    cleanup = renderSignIn(main)
  } else if (route.name === 'board') {
    cleanup = renderBoardPage(main, route.id, session)
  } else if (session.kind === 'guest') {
    // A guest sees their board and nothing else.
    navigate(`/boards/${session.guest.board_id}`, { replace: true })
  } else if (route.name === 'project') {
    cleanup = renderProjectPage(main, route.id, session)
  } else if (route.name === 'home') {
    cleanup = renderProjectsPage(main, session)
  } else if (route.name === 'templates') {
    cleanup = renderTemplatesPage(main, session)
  } else if (route.name === 'template') {
    cleanup = renderTemplatePage(main, route.id)
  } else {
    document.title = t('notFound.title')
    main.append(h('h1', {}, t('notFound.title')), h('p', {}, h('a', { href: '/' }, t('notFound.back'))))
  }
  if (!fullBleed) {
    const heading = main.querySelector('h1')
    if (heading && document.activeElement === document.body) (main as HTMLElement).focus({ preventScroll: true })
  }
}

function header (route: Route): HTMLElement {
  const session = currentSession()
  const right = h('div', { class: 'header-actions' }, languageSwitch())
  if (session?.kind === 'user') {
    right.append(
      h('span', { class: 'who' }, session.user.display_name),
      h('button', { type: 'button', class: 'secondary', onclick: () => { void signOut() } }, t('signin.signOut'))
    )
  }
  const nav = session?.kind === 'user' && route.name !== 'home'
    ? h('nav', { 'aria-label': t('nav.label') }, h('a', { href: '/' }, t('nav.projects')))
    : null
  return h('header', { class: 'app-header' },
    h('a', { class: 'skip-link', href: '#main', onclick: (e: Event) => { e.preventDefault(); document.getElementById('main')?.focus() } }, t('nav.skip')),
    h('a', { class: 'brand', href: '/' }, t('app.name')),
    nav,
    right)
}

/** The foot of every page but the board: the licences of the software the UI bundles. */
function footer (): HTMLElement {
  return h('footer', { class: 'app-footer' },
    h('nav', { 'aria-label': t('footer.label') }, h('a', { href: '/assets/licenses.txt' }, t('footer.licenses'))))
}

setUnauthenticatedHandler(() => {
  if (!currentSession()) return
  clearSession()
  setFlash(t('signin.expired'))
  announce(t('signin.expired'))
  navigate('/')
})
// The board page relabels itself (re-rendering it would reconnect); other pages re-render.
onLanguageChange(() => { if (current.name !== 'board') render(current) })
startRouter(render)
