import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertAccountName, parseGroupLine, type GroupEntry } from './group.ts'

/**
 * A user account as NSS (getent) sees it, with its primary group's name and
 * its supplementary groups (sorted). `uid`/`gid` are null only in a
 * check-mode prediction: the system picks them when the user is created.
 */
export type UserState =
  | { exists: false }
  | {
      exists: true
      uid: number | null
      gid: number | null
      group: string | null
      gecos: string
      home: string
      shell: string
      groups: string[]
    }

const GROUPS = '#groups'

/**
 * Two processes for every user of the batch: `getent passwd` for the users,
 * then the whole group database once, from which each user's supplementary
 * groups are read (one `id -Gn` per user would cost a process each).
 */
function script(keys: readonly string[]): string {
  keys.forEach((k) => assertAccountName(k, 'user name'))
  return [`getent passwd ${sh`${keys}`}`, `echo "${GROUPS} $?"`, 'getent group'].join('\n')
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, UserState> {
  const lines = stdout.split('\n')
  const at = lines.findIndex((l) => l.startsWith(`${GROUPS} `))
  if (at < 0) throw new Error('user probe: output has no group section')
  const passwdCode = Number(lines[at]!.slice(GROUPS.length + 1))
  if (passwdCode !== 0 && passwdCode !== 2) throw new Error(`user probe: getent passwd exited ${passwdCode}`)
  if (code !== 0) throw new Error(`user probe: getent group exited ${code}`)

  const groups: GroupEntry[] = lines
    .slice(at + 1)
    .map(parseGroupLine)
    .filter((g): g is GroupEntry => g !== null)
  const out = new Map<string, UserState>()
  const users = new Map<string, string[]>()
  for (const line of lines.slice(0, at)) {
    const f = line.split(':')
    if (f.length === 7) users.set(f[0]!, f)
  }
  for (const key of keys) {
    const f = users.get(key)
    if (!f) {
      out.set(key, { exists: false })
      continue
    }
    const gid = Number(f[3])
    out.set(key, {
      exists: true,
      uid: Number(f[2]),
      gid,
      group: groups.find((g) => g.gid === gid)?.name ?? null,
      gecos: f[4]!,
      home: f[5]!,
      shell: f[6]!,
      groups: groups
        .filter((g) => g.members.includes(key))
        .map((g) => g.name)
        .sort(),
    })
  }
  return out
}

export const userFact: FactKind<UserState> = {
  name: 'user',
  coalesce: true,
  script,
  parse,
}

/** One user account, by name. */
export function userState(name: string): FactQuery<UserState> {
  return query(userFact, assertAccountName(name, 'user name'))
}
