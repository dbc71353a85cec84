// What this device keeps for a signed-in user besides the offline copies of boards (IndexedDB,
// board/sync.ts), in localStorage, per user, erased at sign-out with those copies:
//
// - a record of each board opened (title, kind, project, role), so that a board cached on this
//   device opens while the server is unreachable, and the projects pages can list them offline;
// - the invitation links this user created (the server keeps only a hash of their secret), so
//   that the project page can show a link or its QR code again and revoke it.
//
// Guests keep nothing: nothing here is ever written for them.

import type { Board, ProjectRole } from './api'

const BOARDS_PREFIX = 'atelier.boards:'
const INVITES_PREFIX = 'atelier.invites:'
const PENDING_PREFIX = 'atelier.pending:'

export interface BoardRecord {
  board: Board
  role: ProjectRole
  projectName: string
  /** When the board was last opened online (ms). */
  openedAt: number
}

export interface InviteLink {
  id: string
  boardId: string
  url: string
  /** The secret part of the link (DELETE /invites/{token} revokes it). */
  token: string
  expiresAt: number
}

function read<T> (key: string): Record<string, T> {
  try {
    const raw = localStorage.getItem(key)
    const value = raw ? JSON.parse(raw) as unknown : null
    return value && typeof value === 'object' ? value as Record<string, T> : {}
  } catch {
    return {}
  }
}

function write (key: string, value: Record<string, unknown>): void {
  try {
    if (Object.keys(value).length === 0) localStorage.removeItem(key)
    else localStorage.setItem(key, JSON.stringify(value))
  } catch { /* storage full or unavailable: nothing kept, nothing breaks */ }
}

// ---- boards opened on this device -------------------------------------------------------------

export function rememberBoard (userId: string, record: BoardRecord): void {
  const all = read<BoardRecord>(BOARDS_PREFIX + userId)
  all[record.board.id] = record
  write(BOARDS_PREFIX + userId, all)
}

export function boardRecord (userId: string, boardId: string): BoardRecord | null {
  const r = read<BoardRecord>(BOARDS_PREFIX + userId)[boardId]
  return r && typeof r.board?.id === 'string' && typeof r.role === 'string' ? r : null
}

/** Every board record of this user, most recently opened first. */
export function boardRecords (userId: string): BoardRecord[] {
  return Object.values(read<BoardRecord>(BOARDS_PREFIX + userId))
    .filter((r) => typeof r?.board?.id === 'string')
    .sort((a, b) => b.openedAt - a.openedAt)
}

export function forgetBoard (userId: string, boardId: string): void {
  const all = read<BoardRecord>(BOARDS_PREFIX + userId)
  if (!(boardId in all)) return
  delete all[boardId]
  write(BOARDS_PREFIX + userId, all)
}

// ---- invitation links created on this device -------------------------------------------------

export function rememberInvite (userId: string, link: InviteLink): void {
  const all = pruned(userId)
  all[link.id] = link
  write(INVITES_PREFIX + userId, all)
}

export function inviteLink (userId: string, inviteId: string): InviteLink | null {
  return pruned(userId)[inviteId] ?? null
}

export function forgetInvite (userId: string, inviteId: string): void {
  const all = pruned(userId)
  delete all[inviteId]
  write(INVITES_PREFIX + userId, all)
}

/** The links of this user, without the expired ones (dropped for good). */
function pruned (userId: string): Record<string, InviteLink> {
  const all = read<InviteLink>(INVITES_PREFIX + userId)
  const now = Date.now()
  let changed = false
  for (const [id, link] of Object.entries(all)) {
    if (typeof link?.url !== 'string' || typeof link.token !== 'string' || !(link.expiresAt > now)) {
      delete all[id]
      changed = true
    }
  }
  if (changed) write(INVITES_PREFIX + userId, all)
  return all
}

// ---- edits not yet confirmed by the server -------------------------------------------------------

/**
 * The Yjs clocks (client id → clock) of edits a board's copy holds that the server had not
 * confirmed when last seen (board/sync.ts), by copy name; null forgets them. Lets a board opened
 * offline say that it holds unsent edits before the server can tell.
 */
export function rememberPending (copy: string, clocks: Array<[number, number]> | null): void {
  try {
    if (clocks && clocks.length) localStorage.setItem(PENDING_PREFIX + copy, JSON.stringify(clocks))
    else localStorage.removeItem(PENDING_PREFIX + copy)
  } catch { /* not kept */ }
}

export function pendingOf (copy: string): Array<[number, number]> {
  try {
    const value = JSON.parse(localStorage.getItem(PENDING_PREFIX + copy) ?? '[]') as unknown
    return Array.isArray(value) ? value.filter((p): p is [number, number] => Array.isArray(p) && Number.isInteger(p[0]) && Number.isInteger(p[1])) : []
  } catch {
    return []
  }
}

// ---- sign-out ---------------------------------------------------------------------------------

/** Erases everything above, for every user (sign-out; the board copies go with it). */
export function forgetDevice (): void {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i)
      if (key && [BOARDS_PREFIX, INVITES_PREFIX, PENDING_PREFIX].some((p) => key.startsWith(p))) localStorage.removeItem(key)
    }
  } catch { /* storage unavailable: nothing was kept */ }
}
