// The organisation's projects the user belongs to, and creating one; without the server, the
// boards this device can open offline.

import { api, ApiError, type Project } from '../api'
import { clear, h } from '../dom'
import { t, roleLabel } from '../i18n'
import { navigate, paths } from '../router'
import type { Session } from '../session'
import { errorText } from './common'
import { offlineBoards } from './project'

export function renderProjectsPage (main: HTMLElement, session: Session & { kind: 'user' }): () => void {
  document.title = `${t('projects.title')} · ${t('app.name')}`
  let alive = true
  const list = h('ul', { class: 'cards', 'aria-labelledby': 'projects-heading', 'aria-busy': 'true' })
  const status = h('p', { class: 'hint', role: 'status' }, t('common.loading'))
  const error = h('p', { class: 'error', role: 'alert' })
  const name = h('input', { id: 'project-name', name: 'name', required: true, maxlength: 200, autocomplete: 'off' })
  const form = h('form', { class: 'inline-form', 'aria-labelledby': 'new-project-heading' },
    h('h2', { id: 'new-project-heading' }, t('projects.create')),
    h('div', { class: 'field' }, h('label', { for: 'project-name' }, t('projects.name')), name),
    h('button', { type: 'submit' }, t('projects.createButton')),
    error)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    try {
      const project = await api.createProject(name.value.trim())
      navigate(paths.project(project.id))
    } catch (err) {
      error.textContent = errorText(err)
    }
  })
  main.append(h('h1', { id: 'projects-heading' }, t('projects.title')), status, list, form,
    h('p', { class: 'templates-link' }, h('a', { href: paths.templates() }, t('templates.link'))))

  const show = (projects: Project[]): void => {
    clear(list)
    list.setAttribute('aria-busy', 'false')
    status.textContent = projects.length ? '' : t('projects.none')
    for (const p of projects) {
      list.append(h('li', { class: 'card' },
        h('a', { href: paths.project(p.id), class: 'card-title' }, p.name),
        h('span', { class: 'badge' }, roleLabel(p.role))))
    }
  }
  api.projects().then((projects) => { if (alive) show(projects) }).catch((err) => {
    if (!alive) return
    status.textContent = errorText(err)
    list.setAttribute('aria-busy', 'false')
    // Without the server: the boards this device can open.
    if (err instanceof ApiError && err.status === 0) list.after(offlineBoards(session, null))
  })
  return () => { alive = false }
}
