// Sign-in: email and password → a bearer token kept in sessionStorage.

import { api, ApiError } from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import { navigate } from '../router'
import { saveSession } from '../session'

export function renderSignIn (main: HTMLElement): () => void {
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' })
  const email = h('input', { id: 'signin-email', name: 'email', type: 'email', autocomplete: 'username', required: true, 'aria-describedby': 'signin-error' })
  const password = h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'signin-error' })
  const submit = h('button', { type: 'submit' }, t('signin.submit'))
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'signin-heading' },
    h('h1', { id: 'signin-heading' }, t('signin.title')),
    h('p', { class: 'hint' }, t('signin.intro')),
    h('div', { class: 'field' }, h('label', { for: 'signin-email' }, t('signin.email')), email),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, t('signin.password')), password),
    error,
    submit)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    submit.disabled = true
    try {
      const res = await api.login(email.value.trim(), password.value)
      saveSession({ kind: 'user', token: res.token, user: res.user })
      const here = location.pathname
      navigate(here.startsWith('/boards/') || here.startsWith('/projects/') ? here : '/', { replace: true })
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0
      error.textContent = status === 401
        ? t('signin.wrong')
        : status === 429 ? t('signin.tooMany') : t('error.network')
      submit.disabled = false
      password.select()
    }
  })
  main.append(form)
  email.focus()
  return () => {}
}
