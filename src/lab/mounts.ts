import { readFileSync } from 'node:fs'
import { run } from './command.ts'
import { LabError } from './errors.ts'
import { tool } from './preflight.ts'

/** Mounts seen from the controller's mount namespace. */

export interface MountEntry {
  /** The path inside the filesystem that is mounted ("/" for a whole filesystem). */
  root: string
  mountPoint: string
  fsType: string
  source: string
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

export function listMounts(): MountEntry[] {
  const out: MountEntry[] = []
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!line) continue
    const [left, right] = line.split(' - ')
    const l = left.split(' ')
    const r = (right ?? '').split(' ')
    out.push({ root: unescape(l[3]), mountPoint: unescape(l[4]), fsType: r[0] ?? '', source: unescape(r[1] ?? '') })
  }
  return out
}

export function isMountPoint(path: string): boolean {
  return listMounts().some((m) => m.mountPoint === path)
}

/** Every mount at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  const points = listMounts()
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(prefix))
  return [...new Set(points)].sort((a, b) => b.length - a.length)
}

/**
 * Lazily unmount everything at or below `dir`. Lazy, because a mount may
 * still be busy for a moment after its host's processes were killed; the
 * kernel finishes the job when the last user lets go.
 */
export async function unmountUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const points = mountsUnder(dir)
    if (points.length === 0) return
    for (const p of points) await run(tool('umount'), ['-l', p])
  }
  const left = mountsUnder(dir)
  if (left.length > 0) throw new LabError(`could not unmount ${left.join(', ')}`, 'see `grep muster /proc/mounts`; unmount them by hand with `umount -l`')
}
