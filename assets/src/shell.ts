// What every page shares: the language switch, signing out, one-shot messages.

import { api } from './api'
import { clearCachedBoards } from './board/sync'
import { h } from './dom'
import { lang, setLanguage, t } from './i18n'
import { navigate } from './router'
import { clearSession } from './session'

let flash: string | null = null

/** A message shown once on the next page (e.g. after signing out or leaving a board). */
export function setFlash (message: string): void { flash = message }
export function takeFlash (): string | null {
  const message = flash
  flash = null
  return message
}

/** The language switch: a button that names the other language in that language. */
export function languageSwitch (): HTMLButtonElement {
  const other = lang() === 'fr' ? 'en' : 'fr'
  return h('button', {
    type: 'button',
    class: 'lang-switch secondary',
    lang: other,
    'aria-label': t('lang.switchLabel'),
    onclick: () => setLanguage(other)
  }, t('lang.switch'))
}

/** Signs out: revokes the token on the server, forgets it, and clears the offline copies. */
export async function signOut (): Promise<void> {
  try { await api.logout() } catch { /* the token is forgotten anyway */ }
  clearSession()
  await clearCachedBoards()
  setFlash(t('signin.signedOut'))
  navigate('/')
}

/** Formats a time stamp (ms) in the current language. */
export function formatDate (ms: number): string {
  return new Intl.DateTimeFormat(lang() === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(ms)
}
