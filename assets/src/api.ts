// The REST API under /api/v1 (see /api/v1/openapi.json). JSON in and out; errors come as
// {"error": {"code", "message"}} and are thrown as ApiError.

import { currentSession, type GuestInfo, type UserInfo } from './session'

export type ProjectRole = 'owner' | 'facilitator' | 'editor' | 'viewer'
export type BoardKind = 'postit' | 'demarreur' | 'mandats' | 'prototypes' | 'radar' | 'photolangage' | 'free'
export const BOARD_KINDS: BoardKind[] = ['postit', 'demarreur', 'mandats', 'prototypes', 'radar', 'photolangage', 'free']

export interface Project { id: string, tenant_id: string, name: string, created_at: number, role: ProjectRole }
export interface Board {
  id: string
  tenant_id: string
  project_id: string
  title: string
  kind: BoardKind
  created_at: number
  archived_at: number | null
}
export interface Member { user_id: string, email: string, display_name: string, role: ProjectRole }
export interface Invite {
  id: string
  board_id: string
  role: 'editor' | 'viewer'
  created_by: string
  created_at: number
  expires_at: number
  revoked_at: number | null
}
export interface CreatedInvite { token: string, url: string, invite: Invite }
/** An account of the organisation (GET /users, tenant admins). */
export interface TenantUser { id: string, tenant_id: string, email: string, display_name: string, tenant_role: 'admin' | 'member', created_at: number }
/** A version of a board (GET /boards/{id}/versions, facilitators): `label` is `phase:<id>` when
 * the server kept it at a change of phase; `created_by` a principal (`user:<id>`). */
export interface BoardVersion { id: string, label: string, created_by: string, created_at: number, bytes: number }
/** What a reveal merged: participants, their notes, private documents that could not be merged. */
export interface Revealed { authors: number, notes: number, refused: number }
export interface Me { kind: 'user' | 'guest', user: UserInfo | null, guest: GuestInfo | null }
/** One proposed group (POST /boards/{id}/suggestions/clusters; docs/clustering.md). */
export interface ClusterSuggestion { title: string, keywords: string[], keywords_shared: boolean, note_ids: string[], cohesion: number }
export interface ClusterSuggestions { notes_considered: number, clusters: ClusterSuggestion[], unclustered: string[] }
/** A template of the organisation (GET /templates): a board's format without its session. */
export interface Template {
  id: string
  name: string
  kind: BoardKind
  source_board_id: string | null
  /** A principal: `user:<id>`. */
  created_by: string
  created_at: number
  bytes: number
  images: number
  boards: number
}
/** What a board's session produced (GET /templates/{id}/boards). */
export interface SessionCounts { notes: number, clusters: number, votes: number, signals: number, participants: number }
export interface TemplateBoard { id: string, project_id: string, title: string, kind: BoardKind, created_at: number, archived_at: number | null, counts: SessionCounts }
export interface SuggestOptions { language?: 'auto' | 'fr' | 'en', max_clusters?: number, min_cluster_size?: number }

export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

/** Called when an authenticated call answers 401 (expired or revoked token). */
let onUnauthenticated: () => void = () => {}
export function setUnauthenticatedHandler (fn: () => void): void { onUnauthenticated = fn }

async function call<T> (method: string, path: string, body?: unknown, token = currentSession()?.token): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store'
    })
  } catch {
    throw new ApiError(0, 'network', 'network error')
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let parsed: unknown = null
  try { parsed = text ? JSON.parse(text) : null } catch { /* not JSON */ }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string, message?: string } } | null)?.error
    if (res.status === 401 && token && path !== '/auth/login') onUnauthenticated()
    throw new ApiError(res.status, err?.code ?? 'http', err?.message ?? `HTTP ${res.status}`)
  }
  return parsed as T
}

export const api = {
  login: (email: string, password: string) =>
    call<{ token: string, expires_at: number, user: UserInfo }>('POST', '/auth/login', { email, password }, undefined),
  logout: () => call<void>('POST', '/auth/logout'),
  me: () => call<Me>('GET', '/auth/me'),
  projects: () => call<Project[]>('GET', '/projects'),
  createProject: (name: string) => call<Project>('POST', '/projects', { name }),
  project: (id: string) => call<Project>('GET', `/projects/${encodeURIComponent(id)}`),
  members: (projectId: string) => call<Member[]>('GET', `/projects/${encodeURIComponent(projectId)}/members`),
  boards: (projectId: string) => call<Board[]>('GET', `/projects/${encodeURIComponent(projectId)}/boards`),
  createBoard: (projectId: string, title: string, kind: BoardKind, templateId: string | null = null) =>
    call<Board>('POST', `/projects/${encodeURIComponent(projectId)}/boards`,
      templateId ? { title, template_id: templateId } : { title, kind }),
  templates: () => call<Template[]>('GET', '/templates'),
  template: (id: string) => call<Template>('GET', `/templates/${encodeURIComponent(id)}`),
  /** Saves a board as a template: `prompts` keeps only locked notes, `all` every note. */
  saveTemplate: (boardId: string, name: string, content: 'prompts' | 'all' = 'prompts') =>
    call<Template>('POST', '/templates', { board_id: boardId, name, content }),
  deleteTemplate: (id: string) => call<void>('DELETE', `/templates/${encodeURIComponent(id)}`),
  templateBoards: (id: string) => call<TemplateBoard[]>('GET', `/templates/${encodeURIComponent(id)}/boards`),
  board: (id: string) => call<Board>('GET', `/boards/${encodeURIComponent(id)}`),
  updateBoard: (id: string, change: { title?: string, archived?: boolean }) =>
    call<Board>('PATCH', `/boards/${encodeURIComponent(id)}`, change),
  invites: (boardId: string) => call<Invite[]>('GET', `/boards/${encodeURIComponent(boardId)}/invites`),
  createInvite: (boardId: string, role: 'editor' | 'viewer', expiresInSecs: number) =>
    call<CreatedInvite>('POST', `/boards/${encodeURIComponent(boardId)}/invites`, { role, expires_in_secs: expiresInSecs }),
  revokeInvite: (inviteToken: string) => call<void>('DELETE', `/invites/${encodeURIComponent(inviteToken)}`),
  revokeBoardInvite: (boardId: string, inviteId: string) =>
    call<void>('DELETE', `/boards/${encodeURIComponent(boardId)}/invites/${encodeURIComponent(inviteId)}`),
  setMember: (projectId: string, userId: string, role: ProjectRole) =>
    call<Member>('PUT', `/projects/${encodeURIComponent(projectId)}/members/${encodeURIComponent(userId)}`, { role }),
  removeMember: (projectId: string, userId: string) =>
    call<void>('DELETE', `/projects/${encodeURIComponent(projectId)}/members/${encodeURIComponent(userId)}`),
  users: () => call<TenantUser[]>('GET', '/users'),
  /** Merges every participant's private notes into the board (a silent phase's reveal). */
  reveal: (boardId: string) => call<Revealed>('POST', `/boards/${encodeURIComponent(boardId)}/reveal`),
  /** Proposed groups of the board's notes (facilitators); nothing is written. */
  suggestClusters: (boardId: string, req: { options?: SuggestOptions, include_clustered?: boolean } = {}) =>
    call<ClusterSuggestions>('POST', `/boards/${encodeURIComponent(boardId)}/suggestions/clusters`, req),
  versions: (boardId: string) => call<BoardVersion[]>('GET', `/boards/${encodeURIComponent(boardId)}/versions`),
  keepVersion: (boardId: string, label: string) =>
    call<BoardVersion>('POST', `/boards/${encodeURIComponent(boardId)}/versions`, { label }),
  acceptInvite: (inviteToken: string, displayName: string) =>
    call<{ token: string, expires_at: number, guest: GuestInfo, board: Board }>(
      'POST', `/invites/${encodeURIComponent(inviteToken)}/accept`, { display_name: displayName }, undefined)
}

/** Roles that may create, rename and archive boards and invite guests. */
export function facilitates (role: ProjectRole | null | undefined): boolean {
  return role === 'owner' || role === 'facilitator'
}
