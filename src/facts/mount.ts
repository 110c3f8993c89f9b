import { query, type FactKind, type FactQuery } from '../contract/fact.ts'

/** What is mounted at a path (the topmost mount there), as /proc/self/mounts says it, or null where nothing is. */
export type MountValue = { source: string; fstype: string; options: string } | null

export function assertMountPoint(target: string): string {
  if (typeof target !== 'string' || !/^\/[^\s\\]*$/.test(target) || target.split('/').includes('..') || (target.length > 1 && target.endsWith('/'))) {
    throw new Error(`mount: ${JSON.stringify(target)} is not a mount point (an absolute path without spaces, backslashes, '..' or a trailing slash)`)
  }
  return target
}

// /proc/self/mounts escapes space, tab, newline and backslash as \ooo
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/**
 * One `cat /proc/self/mounts` answers every mount point of the batch: one
 * process, however many keys. The host's own mount namespace is what it reads.
 */
function script(): string {
  return 'cat /proc/self/mounts'
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, MountValue> {
  if (code !== 0) throw new Error(`mount: could not read /proc/self/mounts (exit ${code})`)
  const at = new Map<string, MountValue>()
  for (const line of stdout.split('\n')) {
    const f = line.split(' ')
    if (f.length < 4) continue
    // a later line is a mount on top of an earlier one at the same point
    at.set(unescape(f[1]!), { source: unescape(f[0]!), fstype: f[2]!, options: f[3]! })
  }
  return new Map(keys.map((k) => [k, at.get(k) ?? null]))
}

export const mountFact: FactKind<MountValue> = { name: 'mount', coalesce: true, script, parse }

/** What is live at a mount point. */
export function mountState(target: string): FactQuery<MountValue> {
  return query(mountFact, assertMountPoint(target))
}
