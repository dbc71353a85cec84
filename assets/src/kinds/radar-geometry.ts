// The geometry of the Radar du futur (docs/board-schema.md, "Radar du futur"): a disc centred on
// the world's origin, cut into sectors (themes, clockwise from the top) and rings (time horizons,
// from the centre out), each ring RING_WIDTH board units wide. A note's slot is the cell its
// centre lies in.

import { t } from '../i18n'

export interface RadarEntry { id: string, title: string }
export interface RadarConfig { sectors: RadarEntry[], rings: RadarEntry[] }
export interface Slot { sector: string, ring: string }

/** Width of one ring, board units. */
export const RING_WIDTH = 440
export const MAX_SECTORS = 8
export const MAX_RINGS = 5
export const MAX_TITLE = 80

/** The default radar, in the current language (used while `meta.radar` is absent). */
export function defaultRadar (): RadarConfig {
  return {
    sectors: [
      { id: 's1', title: t('radar.defaultSector1') },
      { id: 's2', title: t('radar.defaultSector2') },
      { id: 's3', title: t('radar.defaultSector3') },
      { id: 's4', title: t('radar.defaultSector4') }
    ],
    rings: [
      { id: 'r1', title: t('radar.defaultRing1') },
      { id: 'r2', title: t('radar.defaultRing2') },
      { id: 'r3', title: t('radar.defaultRing3') }
    ]
  }
}

function entries (v: unknown, max: number): RadarEntry[] {
  if (!Array.isArray(v)) return []
  const out: RadarEntry[] = []
  const seen = new Set<string>()
  for (const e of v) {
    if (!e || typeof e !== 'object') continue
    const { id, title } = e as Record<string, unknown>
    if (typeof id !== 'string' || id === '' || seen.has(id)) continue
    seen.add(id)
    out.push({ id, title: typeof title === 'string' ? title.slice(0, MAX_TITLE) : '' })
    if (out.length === max) break
  }
  return out
}

/** Reads `meta.radar` defensively; the defaults fill in what is missing or unusable. */
export function readRadar (v: unknown): RadarConfig {
  const d = defaultRadar()
  const o = v && typeof v === 'object' ? v as Record<string, unknown> : {}
  const sectors = entries(o.sectors, MAX_SECTORS)
  const rings = entries(o.rings, MAX_RINGS)
  return { sectors: sectors.length > 0 ? sectors : d.sectors, rings: rings.length > 0 ? rings : d.rings }
}

export function radius (c: RadarConfig): number { return c.rings.length * RING_WIDTH }

/** The cell a world point lies in, or null outside the radar. */
export function slotAt (c: RadarConfig, x: number, y: number): Slot | null {
  const r = Math.hypot(x, y)
  const ring = Math.floor(r / RING_WIDTH)
  if (ring >= c.rings.length || c.sectors.length === 0) return null
  // Clockwise from the top: 0 straight up, π/2 to the right.
  let a = Math.atan2(x, -y)
  if (a < 0) a += Math.PI * 2
  const sector = Math.min(c.sectors.length - 1, Math.floor(a / (Math.PI * 2 / c.sectors.length)))
  return { sector: c.sectors[sector].id, ring: c.rings[ring].id }
}

/** A world point of a cell: `along` (0–1) across its angle, `out` (0–1) across its ring. */
export function cellPoint (c: RadarConfig, slot: Slot, along = 0.5, out = 0.5): [number, number] | null {
  const s = c.sectors.findIndex((e) => e.id === slot.sector)
  const r = c.rings.findIndex((e) => e.id === slot.ring)
  if (s < 0 || r < 0) return null
  const span = Math.PI * 2 / c.sectors.length
  const a = (s + along) * span
  const rr = (r + out) * RING_WIDTH
  return [rr * Math.sin(a), -rr * Math.cos(a)]
}

export function readSlot (v: unknown): Slot | null {
  if (!v || typeof v !== 'object') return null
  const { sector, ring } = v as Record<string, unknown>
  return typeof sector === 'string' && typeof ring === 'string' ? { sector, ring } : null
}

export function sameSlot (a: Slot | null, b: Slot | null): boolean {
  return a === b || (a !== null && b !== null && a.sector === b.sector && a.ring === b.ring)
}
