// Who is signed in, kept in sessionStorage only: the token dies with the tab, and a shared
// computer keeps no credentials once the tab is closed.

export interface UserInfo {
  id: string
  tenant_id: string
  email: string
  display_name: string
  tenant_role: 'admin' | 'member'
}

export interface GuestInfo {
  id: string
  board_id: string
  invite_id: string
  display_name: string
  role: 'editor' | 'viewer'
}

export type Session =
  | { kind: 'user', token: string, user: UserInfo }
  | { kind: 'guest', token: string, guest: GuestInfo, expiresAt: number }

const KEY = 'atelier.session'

export function currentSession (): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    if (!raw) return null
    const value = JSON.parse(raw) as Session
    if (typeof value?.token !== 'string') return null
    if (value.kind === 'guest' && value.expiresAt <= Date.now()) {
      sessionStorage.removeItem(KEY)
      return null
    }
    return value
  } catch {
    return null
  }
}

export function saveSession (session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session))
}

export function clearSession (): void {
  sessionStorage.removeItem(KEY)
}

/** The participant id written in `createdBy` and presence: the user's or the guest's id. */
export function participantId (session: Session): string {
  return session.kind === 'user' ? session.user.id : session.guest.id
}

export function displayName (session: Session): string {
  return session.kind === 'user' ? session.user.display_name : session.guest.display_name
}
