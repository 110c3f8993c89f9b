import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { authorizedKeysOf, type AuthorizedKeysState } from '../../facts/authorized-keys.ts'
import { userState, type UserState } from '../../facts/user.ts'
import { contentDiff } from '../diff.ts'
import { writeFileAtomic } from '../write-file.ts'

/** Options of `authorizedKeys()`: the keys a user's authorized_keys must hold, and whether they are the only ones (`exclusive`). */
export interface AuthorizedKeysOptions extends ResourceMeta {
  /** Public keys, one authorized_keys line each (options allowed before the key type). */
  keys: readonly string[]
  /** true: exactly these keys, every other line removed. false (default): these are added, others kept. */
  exclusive?: boolean
}

const KEY = /(?:^|\s)((?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+([A-Za-z0-9+/]+={0,3}))(?:\s|$)/

/** The key's base64 blob: what identifies it, whatever its options and comment. */
export function keyBlob(line: string): string | undefined {
  return KEY.exec(line)?.[2]
}

/**
 * A user's ~/.ssh/authorized_keys: the keys given, added to what is there or,
 * with `exclusive`, nothing else. ~/.ssh is made 0700 and the file 0600, both
 * the user's, and the file is replaced atomically, so sshd never reads half of it.
 */
export function authorizedKeys(user: string, opts: AuthorizedKeysOptions): Resource {
  const id = `authorized-keys:${user}`
  if (!Array.isArray(opts.keys) || opts.keys.length === 0) throw new Error(`${id}: give at least one key`)
  for (const k of opts.keys) {
    if (typeof k !== 'string' || k.includes('\n') || keyBlob(k) === undefined) throw new Error(`${id}: not a public key line: ${JSON.stringify(String(k).slice(0, 60))}`)
  }
  const { keys, exclusive, ...meta } = opts
  return resource({
    id,
    type: 'authorized-keys',
    probe: { keys: authorizedKeysOf(user), account: userState(user) },
    plan: ({ keys: have, account }) => planAuthorizedKeys(user, keys.map((k) => k.trim()), exclusive ?? false, have, account),
    meta,
  })
}

export function planAuthorizedKeys(user: string, keys: readonly string[], exclusive: boolean, have: AuthorizedKeysState, account: UserState): Plan {
  // a user made earlier in this run exists only as userState's prediction (check mode): its file is not there yet
  const now = have.user ? have : account.exists ? { user: true as const, home: account.home, dir: null, file: null } : undefined
  if (!now) throw new Error(`authorized-keys:${user}: no such user on this host`)
  const group = account.exists && account.group !== null ? account.group : (now.file?.group ?? now.dir?.group ?? user)
  const before = now.file?.text ?? null
  const lines = exclusive ? [] : (before ?? '').split('\n').filter((l) => l.trim() !== '')
  const present = new Set(lines.map(keyBlob))
  const text = [...lines, ...keys.filter((k) => !present.has(keyBlob(k)))].join('\n') + '\n'
  const path = `${now.home}/.ssh/authorized_keys`
  const drift: string[] = []
  if (before !== text) drift.push(before === null ? 'create' : 'content')
  if (now.dir && (now.dir.mode !== '0700' || now.dir.owner !== user)) drift.push(`~/.ssh ${now.dir.mode} ${now.dir.owner} -> 0700 ${user}`)
  if (now.file && (now.file.mode !== '0600' || now.file.owner !== user || now.file.group !== group)) {
    drift.push(`mode/owner ${now.file.mode} ${now.file.owner}:${now.file.group} -> 0600 ${user}:${group}`)
  }
  if (drift.length === 0) return ok(`${keys.length} key(s) in ${path}`)
  const stat = { mode: '0600', owner: user, group }
  return change(
    drift.join(', '),
    async (ctx) => {
      await ctx.run(sh`install -d -m 0700 -o ${user} -g ${group} -- ${`${now.home}/.ssh`}`)
      await writeFileAtomic(ctx, path, Buffer.from(text, 'utf8'), stat)
    },
    {
      ...(before !== text ? { diff: contentDiff(path, before, text) } : {}),
      predicts: [predict(authorizedKeysOf(user), { user: true, home: now.home, dir: { mode: '0700', owner: user, group }, file: { ...stat, text } })],
    },
  )
}
