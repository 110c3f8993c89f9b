import { query, type FactKind, type FactQuery } from '../../contract/fact.ts'
import { sh } from '../../core/sh.ts'
import { assertHostPath } from '../../facts/path.ts'
import { RELEASE_MANIFEST, releasePaths } from '../release.ts'

/** One release directory on a host. */
export interface HostRelease {
  readonly id: string
  /** When the directory arrived (its ctime, epoch seconds): an upload renames it into place. */
  readonly arrived: number
  /** Its manifest is there: a whole release, not a leftover. */
  readonly complete: boolean
}

/** What a host has under a deploy root, and what its service runs. */
export interface ReleaseState {
  /** The release `current` points at (null: no link, or one that points outside `releases/`). */
  readonly current: string | null
  /** The raw target of `current`, for messages when it points somewhere odd. */
  readonly currentTarget: string | null
  /** The release that was current before the last switch. */
  readonly previous: string | null
  /**
   * The service's main process (0: not running) and the release it was started
   * from, read from its working directory (null when that is not a release).
   * A `current` that was switched without a restart shows here.
   */
  readonly running: { readonly pid: number; readonly release: string | null }
  /** Every release directory, newest arrival first. */
  readonly releases: readonly HostRelease[]
}

interface Key {
  root: string
  unit?: string
}

/** Read-only: link targets, the unit's main PID and its working directory, one line per release. */
function script(keys: readonly string[]): string {
  if (keys.length !== 1) throw new Error(`release-state probe: one deploy root per section, got ${keys.length}`)
  const k = JSON.parse(keys[0]!) as Key
  const p = releasePaths(k.root)
  return [
    `r=${sh`${p.releases}`}`,
    `printf 'current %s\\n' "$(readlink -- ${sh`${p.current}`} 2>/dev/null || echo -)"`,
    `printf 'previous %s\\n' "$(readlink -- ${sh`${previousLink(k.root)}`} 2>/dev/null || echo -)"`,
    ...(k.unit
      ? [
          `pid=$(systemctl show -p MainPID --value ${sh`${k.unit}`} 2>/dev/null </dev/null || echo 0)`,
          'printf \'pid %s\\n\' "${pid:-0}"',
          'if [ "${pid:-0}" != 0 ]; then printf \'cwd %s\\n\' "$(readlink -- "/proc/$pid/cwd" 2>/dev/null || echo -)"; fi',
        ]
      : []),
    'if [ -d "$r" ]; then',
    '  for d in "$r"/*/; do',
    '    [ -d "$d" ] || continue',
    '    n=${d%/}; n=${n##*/}',
    `    c=0; [ -f "$d"${sh`${RELEASE_MANIFEST}`} ] && c=1`,
    '    printf \'rel %s %s %s\\n\' "$(stat -c %Z -- "$d")" "$c" "$n"',
    '  done',
    'fi',
  ].join('\n')
}

/** The release id a link target names, when it is a directory of `releasesDir`. */
export function releaseOfTarget(target: string | null, releasesDir: string, root: string): string | null {
  if (target === null || target === '-' || target === '') return null
  const t = target.replace(/\/+$/, '')
  for (const prefix of [`${releasesDir}/`, 'releases/', `${root.replace(/\/+$/, '')}/releases/`]) {
    if (t.startsWith(prefix)) {
      const id = t.slice(prefix.length)
      return id !== '' && !id.includes('/') ? id : null
    }
  }
  return null
}

export function parseReleaseState(stdout: string, root: string): ReleaseState {
  const p = releasePaths(root)
  let currentTarget: string | null = null
  let previousTarget: string | null = null
  let pid = 0
  let cwd: string | null = null
  const releases: HostRelease[] = []
  for (const line of stdout.split('\n')) {
    const sp = line.indexOf(' ')
    if (sp < 0) continue
    const tag = line.slice(0, sp)
    const rest = line.slice(sp + 1)
    if (tag === 'current') currentTarget = rest === '-' ? null : rest
    else if (tag === 'previous') previousTarget = rest === '-' ? null : rest
    else if (tag === 'pid') pid = /^\d+$/.test(rest) ? Number(rest) : 0
    else if (tag === 'cwd') cwd = rest === '-' ? null : rest
    else if (tag === 'rel') {
      const m = /^(\d+) ([01]) (.+)$/.exec(rest)
      if (m) releases.push({ arrived: Number(m[1]), complete: m[2] === '1', id: m[3]! })
    }
  }
  releases.sort((a, b) => b.arrived - a.arrived || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  return {
    current: releaseOfTarget(currentTarget, p.releases, root),
    currentTarget,
    previous: releaseOfTarget(previousTarget, p.releases, root),
    running: { pid, release: pid === 0 ? null : releaseOfTarget(cwd, p.releases, root) },
    releases,
  }
}

export const releaseStateFact: FactKind<ReleaseState> = {
  name: 'release-state',
  coalesce: false,
  script,
  parse(stdout, keys) {
    const k = JSON.parse(keys[0]!) as Key
    return new Map([[keys[0]!, parseReleaseState(stdout, k.root)]])
  },
}

/** The releases under `root`, `current` and `previous`, and what `unit` (when given) is running. */
export function releaseState(root: string, unit?: string): FactQuery<ReleaseState> {
  assertHostPath(root, 'deploy root')
  const key: Key = { root: root.replace(/\/+$/, ''), ...(unit ? { unit } : {}) }
  return query(releaseStateFact, JSON.stringify(key))
}

/** The same read, as one command outside a probe batch (for `muster releases` and the deploy report). */
export function releaseStateCommand(root: string, unit?: string): string {
  return script([JSON.stringify({ root: root.replace(/\/+$/, ''), ...(unit ? { unit } : {}) })])
}

/** `<root>/previous`: the link a switch leaves to the release it replaced, what a rollback goes back to. */
export function previousLink(root: string): string {
  return `${root.replace(/\/+$/, '')}/previous`
}
