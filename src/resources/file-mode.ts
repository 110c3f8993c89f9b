/**
 * Modes as the path fact prints them: 4 octal digits ("0644", "4755").
 * Users may write "644", "0644" or 0o644; anything else fails when the
 * resource is built, not halfway through a run.
 */
export function normalizeMode(mode: string | number, what = 'mode'): string {
  const text = typeof mode === 'number' ? mode.toString(8) : mode
  if (typeof text !== 'string' || !/^[0-7]{3,4}$/.test(text)) {
    throw new Error(`${what} must be 3 or 4 octal digits ("0644") or a number like 0o644, got ${JSON.stringify(mode)}`)
  }
  return text.padStart(4, '0')
}

/** Who may own a path: names as the host knows them (the path fact prints a bare number only when there is no name). */
export interface Ownership {
  /** "0644", "644" or 0o644. */
  mode?: string | number
  owner?: string
  group?: string
}

export interface NormalOwnership {
  mode?: string
  owner?: string
  group?: string
}

export function normalizeOwnership(o: Ownership, what: string): NormalOwnership {
  const out: NormalOwnership = {}
  if (o.mode !== undefined) out.mode = normalizeMode(o.mode, `${what}: mode`)
  for (const k of ['owner', 'group'] as const) {
    const v = o[k]
    if (v === undefined) continue
    if (typeof v !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(v)) {
      throw new Error(`${what}: ${k} must be a user or group name, got ${JSON.stringify(v)}`)
    }
    out[k] = v
  }
  return out
}

/** The `chown` argument for what is asked: "u:g", "u" or ":g"; undefined when neither. */
export function chownSpec(o: NormalOwnership): string | undefined {
  if (o.owner === undefined && o.group === undefined) return undefined
  return `${o.owner ?? ''}${o.group !== undefined ? `:${o.group}` : ''}`
}

/** The parts of `o` that differ from what the host has: "mode 0644 -> 0600", "owner root -> www-data". */
export function ownershipDrift(have: { mode?: string; owner: string; group: string }, want: NormalOwnership): string[] {
  const parts: string[] = []
  if (want.mode !== undefined && have.mode !== undefined && have.mode !== want.mode) parts.push(`mode ${have.mode} -> ${want.mode}`)
  if (want.owner !== undefined && have.owner !== want.owner) parts.push(`owner ${have.owner} -> ${want.owner}`)
  if (want.group !== undefined && have.group !== want.group) parts.push(`group ${have.group} -> ${want.group}`)
  return parts
}
