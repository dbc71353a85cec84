// Images of a board on the server: upload (POST /api/v1/boards/{id}/images, the raw bytes) and
// download with the bearer token (GET .../images/{asset}). An <img> cannot send the token, so
// the bytes are fetched and shown through an object URL, cached per image for the page's life
// and revoked when the board closes.

import { ApiError } from '../api'
import { currentSession } from '../session'

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const
/** The server's limit for one image (10 MiB). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024
/** A new image is placed at its natural size, scaled down to fit this many board units. */
export const IMAGE_FIT = 600

export interface UploadedImage {
  id: string
  content_type: string
  width: number
  height: number
  bytes: number
}

export function isSupportedImage (file: Blob): boolean {
  return (IMAGE_TYPES as readonly string[]).includes(file.type)
}

/** The size an image of `width`×`height` pixels takes on the board when added. */
export function placedSize (width: number, height: number): [number, number] {
  const w = Math.max(1, width)
  const h = Math.max(1, height)
  const k = Math.min(1, IMAGE_FIT / Math.max(w, h))
  return [Math.max(8, Math.round(w * k)), Math.max(8, Math.round(h * k))]
}

export class ImageStore {
  private readonly urls = new Map<string, Promise<string>>()
  private readonly made: string[] = []
  private destroyed = false

  constructor (private readonly boardId: string) {}

  private path (suffix = ''): string {
    return `/api/v1/boards/${encodeURIComponent(this.boardId)}/images${suffix}`
  }

  private headers (): Record<string, string> {
    const token = currentSession()?.token
    return token ? { authorization: `Bearer ${token}` } : {}
  }

  /** An object URL showing the image `asset` (fetched once per page). */
  url (asset: string): Promise<string> {
    let p = this.urls.get(asset)
    if (!p) {
      p = this.fetchUrl(asset)
      this.urls.set(asset, p)
      // A failure is not cached: showing the item again retries.
      p.catch(() => { if (this.urls.get(asset) === p) this.urls.delete(asset) })
    }
    return p
  }

  private async fetchUrl (asset: string): Promise<string> {
    let res: Response
    try {
      res = await fetch(this.path(`/${encodeURIComponent(asset)}`), { headers: this.headers(), credentials: 'omit' })
    } catch {
      throw new ApiError(0, 'network', 'network error')
    }
    if (!res.ok) throw new ApiError(res.status, 'http', `HTTP ${res.status}`)
    const blob = await res.blob()
    if (this.destroyed) throw new ApiError(0, 'closed', 'board closed')
    const url = URL.createObjectURL(blob)
    this.made.push(url)
    return url
  }

  /** Uploads an image file; resolves with what the server stored. */
  async upload (file: Blob): Promise<UploadedImage> {
    if (!isSupportedImage(file)) throw new ApiError(415, 'unsupported_media_type', 'unsupported image type')
    if (file.size > MAX_IMAGE_BYTES) throw new ApiError(413, 'payload_too_large', 'image too large')
    let res: Response
    try {
      res = await fetch(this.path(), {
        method: 'POST',
        headers: { ...this.headers(), 'content-type': file.type, accept: 'application/json' },
        body: file,
        credentials: 'omit',
        cache: 'no-store'
      })
    } catch {
      throw new ApiError(0, 'network', 'network error')
    }
    const text = await res.text()
    let body: unknown = null
    try { body = text ? JSON.parse(text) : null } catch { /* not JSON */ }
    if (!res.ok) {
      const err = (body as { error?: { code?: string, message?: string } } | null)?.error
      throw new ApiError(res.status, err?.code ?? 'http', err?.message ?? `HTTP ${res.status}`)
    }
    const image = body as UploadedImage | null
    if (!image || typeof image.id !== 'string') throw new ApiError(res.status, 'invalid', 'unexpected answer')
    // The bytes are here already: show them without downloading them again.
    if (!this.urls.has(image.id)) {
      const url = URL.createObjectURL(file)
      this.made.push(url)
      this.urls.set(image.id, Promise.resolve(url))
    }
    return image
  }

  destroy (): void {
    this.destroyed = true
    for (const url of this.made) URL.revokeObjectURL(url)
    this.made.length = 0
    this.urls.clear()
  }
}
