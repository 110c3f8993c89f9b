import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertAccountName } from './group.ts'

export interface KeysFileStat {
  mode: string
  owner: string
  group: string
}

/** A user's ~/.ssh/authorized_keys as sshd would read it (the default AuthorizedKeysFile). */
export type AuthorizedKeysState =
  | { user: false }
  | { user: true; home: string; dir: KeysFileStat | null; file: (KeysFileStat & { text: string }) | null }

const REC = '\x1e'

/**
 * One `getent passwd` for every user of the batch; per user, a `stat` of
 * ~/.ssh and, when the file is there, one `stat` and one `base64` of it.
 * Keys are public, so the text itself travels (they are short): the plan
 * compares it key by key, and shows a diff without a second round trip.
 */
function script(keys: readonly string[]): string {
  keys.forEach((k) => assertAccountName(k, 'user name'))
  return [
    `getent passwd ${sh`${keys}`} | while IFS=: read -r n _ _ _ _ h _; do`,
    `  printf '\\036%s\\t%s\\t' "$n" "$h"`,
    `  if [ -d "$h/.ssh" ]; then stat -c '%a %U %G' -- "$h/.ssh" | tr -d '\\n'; else printf -; fi`,
    `  if [ -f "$h/.ssh/authorized_keys" ]; then printf '\\t'; stat -c '%a %U %G' -- "$h/.ssh/authorized_keys" | tr -d '\\n'; printf '\\t'; base64 -w0 -- "$h/.ssh/authorized_keys"; fi`,
    '  echo',
    'done',
  ].join('\n')
}

const statOf = (s: string): KeysFileStat | null => {
  if (s === '-') return null
  const [mode, owner, group] = s.split(' ')
  if (!mode || !owner || !group) throw new Error(`authorized-keys probe: cannot read ${JSON.stringify(s)}`)
  return { mode: mode.padStart(4, '0'), owner, group }
}

function parse(stdout: string, keys: readonly string[]): Map<string, AuthorizedKeysState> {
  const seen = new Map<string, AuthorizedKeysState>()
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(REC)) continue
    const [name, home, dir, file, b64] = line.slice(1).split('\t')
    if (!name || home === undefined || dir === undefined) throw new Error(`authorized-keys probe: cannot read ${JSON.stringify(line)}`)
    const fileStat = file === undefined ? null : statOf(file)
    seen.set(name, { user: true, home, dir: statOf(dir), file: fileStat && { ...fileStat, text: Buffer.from(b64 ?? '', 'base64').toString('utf8') } })
  }
  return new Map(keys.map((k) => [k, seen.get(k) ?? { user: false }]))
}

export const authorizedKeysFact: FactKind<AuthorizedKeysState> = { name: 'authorized-keys', coalesce: true, script, parse: (stdout, keys) => parse(stdout, keys) }

export function authorizedKeysOf(user: string): FactQuery<AuthorizedKeysState> {
  return query(authorizedKeysFact, assertAccountName(user, 'user name'))
}
