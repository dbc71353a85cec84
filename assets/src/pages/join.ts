// /join/{invite}: a guest picks a display name and lands on the board, with no account.

import { api, ApiError } from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import { navigate, paths } from '../router'
import { saveSession } from '../session'

export function renderJoinPage (main: HTMLElement, inviteToken: string): () => void {
  document.title = `${t('join.title')} · ${t('app.name')}`
  const error = h('p', { class: 'error', role: 'alert', id: 'join-error' })
  const name = h('input', { id: 'join-name', name: 'display_name', required: true, maxlength: 80, autocomplete: 'nickname', 'aria-describedby': 'join-hint join-error' })
  const submit = h('button', { type: 'submit' }, t('join.submit'))
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'join-heading' },
    h('h1', { id: 'join-heading' }, t('join.title')),
    h('p', {}, t('join.intro')),
    h('div', { class: 'field' }, h('label', { for: 'join-name' }, t('join.name')), name),
    h('p', { class: 'hint', id: 'join-hint' }, t('join.privacy')),
    error,
    submit)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    submit.disabled = true
    try {
      const res = await api.acceptInvite(inviteToken, name.value.trim())
      saveSession({ kind: 'guest', token: res.token, guest: res.guest, expiresAt: res.expires_at })
      navigate(paths.board(res.board.id), { replace: true })
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 404
        ? t('join.invalid')
        : err instanceof ApiError && err.status === 400 ? t('join.badName') : t('error.network')
      submit.disabled = false
    }
  })
  main.append(form)
  name.focus()
  return () => {}
}
