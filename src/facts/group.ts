import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'

/**
 * A group as NSS (getent) sees it. `gid` is null only in a check-mode
 * prediction: the system picks it when the group is created.
 */
export type GroupState = { exists: false } | { exists: true; gid: number | null; members: string[] }

/** useradd/groupadd's own rule (NAME_REGEX): no leading dash, no colon, no space. */
const NAME = /^[a-z_][a-z0-9_.-]*\$?$/i

export function assertAccountName(name: string, what = 'user or group name'): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 32) {
    throw new Error(`not a valid ${what}: ${JSON.stringify(name)}`)
  }
  return name
}

/** One line of the group database: name:password:gid:member,member */
export interface GroupEntry {
  name: string
  gid: number
  members: string[]
}

export function parseGroupLine(line: string): GroupEntry | null {
  const f = line.split(':')
  if (f.length < 4 || f[0] === '') return null
  return { name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter((m) => m !== '') }
}

/** One `getent group` for every group of the batch; a name it does not know is simply not printed (exit 2). */
function script(keys: readonly string[]): string {
  keys.forEach((k) => assertAccountName(k, 'group name'))
  return `getent group ${sh`${keys}`}`
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, GroupState> {
  if (code !== 0 && code !== 2) throw new Error(`group probe: getent exited ${code}`)
  const found = new Map<string, GroupEntry>()
  for (const line of stdout.split('\n')) {
    const g = parseGroupLine(line)
    if (g) found.set(g.name, g)
  }
  const out = new Map<string, GroupState>()
  for (const key of keys) {
    const g = found.get(key)
    out.set(key, g ? { exists: true, gid: g.gid, members: g.members } : { exists: false })
  }
  return out
}

export const groupFact: FactKind<GroupState> = {
  name: 'group',
  coalesce: true,
  script,
  parse,
}

/** One group, by name. */
export function groupState(name: string): FactQuery<GroupState> {
  return query(groupFact, assertAccountName(name, 'group name'))
}
