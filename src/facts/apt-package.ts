import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'

/**
 * What dpkg says about one package.
 * - installed: unpacked and configured (triggers may still be pending).
 *   `version` and `arch` are null only in a check-mode prediction: "whatever
 *   apt's candidate is when the change runs".
 * - config-files: removed, its conffiles remain (dpkg's `rc`).
 * - broken: dpkg was interrupted in the middle (half-installed, unpacked,
 *   half-configured); an install completes it, a remove removes it.
 * - not-installed: dpkg does not know it, or knows it only as a name (`un`).
 */
export type AptPackageState =
  | { state: 'installed'; version: string | null; arch: string | null; held: boolean }
  | { state: 'config-files'; version: string }
  | { state: 'broken'; status: string; version: string }
  | { state: 'not-installed' }

/** Debian package names (policy 5.6.1), optionally arch-qualified ("libc6:amd64"). */
const NAME = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$/

export function assertPackageName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error(`not a Debian package name: ${JSON.stringify(name)} (lowercase letters, digits, + - . and an optional :arch)`)
  }
  return name
}

// dpkg-query expands \t and \n in the format itself; ${...} are its fields, not shell variables.
const FORMAT = "'${Package}\\t${Architecture}\\t${db:Status-Abbrev}\\t${Version}\\n'"

/**
 * One `dpkg-query -W` for every package of the batch. Unknown names go to
 * stderr (dropped) and make dpkg-query exit 1; the exit code is the fragment's
 * own, so a missing dpkg (127) or a broken database (2) is not read as
 * "nothing installed".
 */
function script(keys: readonly string[]): string {
  keys.forEach(assertPackageName)
  return `dpkg-query -W -f=${FORMAT} ${sh`${keys}`} 2>/dev/null`
}

interface Row {
  name: string
  arch: string
  abbrev: string
  version: string
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, AptPackageState> {
  if (code !== 0 && code !== 1) throw new Error(`apt-package probe: dpkg-query exited ${code} (is this a Debian host?)`)
  const rows: Row[] = []
  for (const line of stdout.split('\n')) {
    if (line === '') continue
    const f = line.split('\t')
    if (f.length !== 4) throw new Error(`apt-package probe: unexpected dpkg-query line ${JSON.stringify(line)}`)
    rows.push({ name: f[0]!, arch: f[1]!, abbrev: f[2]!, version: f[3]! })
  }
  const out = new Map<string, AptPackageState>()
  for (const key of keys) {
    const [name, arch] = key.split(':') as [string, string | undefined]
    const mine = rows.filter((r) => r.name === name && (arch === undefined || r.arch === arch || r.arch === 'all'))
    // several rows only with multiarch (libc6:amd64 and libc6:i386): the most installed one answers
    const best = [...mine].sort((a, b) => rank(toState(b)) - rank(toState(a)))[0]
    out.set(key, best ? toState(best) : { state: 'not-installed' })
  }
  return out
}

function rank(s: AptPackageState): number {
  return { installed: 3, broken: 2, 'config-files': 1, 'not-installed': 0 }[s.state]
}

/**
 * db:Status-Abbrev is three characters: wanted (u i h r p), status
 * (n c H U F W t i) and error flag (space or R).
 */
function toState(r: Row): AptPackageState {
  const wanted = r.abbrev[0]
  const status = r.abbrev[1]
  switch (status) {
    case 'i':
    case 'W': // triggers-awaited and -pending: configured, a trigger will run on the next dpkg call
    case 't':
      return { state: 'installed', version: r.version, arch: r.arch, held: wanted === 'h' }
    case 'c':
      return { state: 'config-files', version: r.version }
    case 'H':
    case 'U':
    case 'F':
      return { state: 'broken', status: STATUS_WORDS[status], version: r.version }
    case 'n':
      return { state: 'not-installed' }
    default:
      throw new Error(`apt-package probe: unknown dpkg status ${JSON.stringify(r.abbrev)} for ${r.name}`)
  }
}

const STATUS_WORDS: Record<string, string> = { H: 'half-installed', U: 'unpacked', F: 'half-configured' }

export const aptPackageFact: FactKind<AptPackageState> = {
  name: 'apt-package',
  coalesce: true,
  script,
  parse,
}

/** dpkg's state of one package. */
export function aptPackage(name: string): FactQuery<AptPackageState> {
  return query(aptPackageFact, assertPackageName(name))
}
