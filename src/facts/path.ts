import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'

/** What a path is on the host. Modes are 4-digit octal strings ("0644"). */
export type PathState =
  | { type: 'absent' }
  | { type: 'file'; mode: string; owner: string; group: string; size: number; mtime: number; sha256: string }
  | { type: 'directory'; mode: string; owner: string; group: string; mtime: number }
  | { type: 'symlink'; target: string; owner: string; group: string; mtime: number }
  | { type: 'other'; mode: string; owner: string; group: string; mtime: number }

/** A path's state without the content hash: for paths whose bytes nobody compares. */
export type PathStat = DistributiveOmit<PathState, 'sha256'>
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * Keys of path facts are absolute and one line: the probe prints one record per
 * line ending in the path, and a relative path would depend on the login
 * user's home directory.
 */
export function assertHostPath(path: string, what = 'path'): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new Error(`${what} must be absolute, got ${JSON.stringify(path)}`)
  }
  if (/[\n\0]/.test(path)) throw new Error(`${what} must not contain a newline or NUL: ${JSON.stringify(path)}`)
  return path
}

// Field separator before %p: a control character no sane path or link target contains.
const US = '\x1f'
const ERRORS = '\x1epath:find-errors'
const SHA = '\x1epath:sha256'

/**
 * One `find` for every path (stdout straight out, stderr captured and printed
 * after, so error lines never split a record), then, for the full kind, one
 * `sha256sum` over the regular files only: hashing a FIFO or a device would
 * block or never end. `[ -f ]` and `[ -L ]` are shell builtins, so the filter
 * starts no process. The stat kind skips the hash: apt's 36 MB pkgcache.bin
 * cost ~100 ms of host CPU per probe only to read its mtime.
 */
function script(keys: readonly string[], hash: boolean): string {
  keys.forEach((k) => assertHostPath(k))
  // `|| :` keeps the fragment whole even inside a batch run with `set -e`: a missing path is an answer, not a failure
  const fmt = '%y %04m %u %g %s %T@ %l\\037%p\\n'
  return [
    '(',
    `{ e=$(LC_ALL=C find ${sh`${keys}`} -maxdepth 0 -printf '${fmt}' 2>&1 >&3) || :; } 3>&1`,
    `printf '\\036${ERRORS.slice(1)}\\n%s\\n' "$e"`,
    `printf '\\036${SHA.slice(1)}\\n'`,
    ...(hash
      ? [
          `set --`,
          `for p in ${sh`${keys}`}; do if [ -f "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done`,
          `if [ $# -gt 0 ]; then LC_ALL=C sha256sum -- "$@" 2>/dev/null || :; fi`,
        ]
      : []),
    'true',
    ')',
  ].join('\n')
}

const RECORD = new RegExp(`^([a-zA-Z]) (\\d{4}) (\\S+) (\\S+) (\\d+) (-?\\d+(?:\\.\\d+)?) ([^${US}]*)${US}([^\\n]*)$`, 'gm')
// find's own words for "there is nothing at this path"; anything else (permission denied, I/O error) is not "absent"
const ABSENT_ERROR = /: (No such file or directory|Not a directory)$/

function parse(stdout: string, keys: readonly string[], hash: boolean): Map<string, PathState | PathStat> {
  const errAt = stdout.indexOf(`${ERRORS}\n`)
  const shaAt = stdout.indexOf(`${SHA}\n`)
  if (errAt < 0 || shaAt < errAt) throw new Error('path probe: output is missing its section markers')
  const records = stdout.slice(0, errAt)
  const errors = stdout
    .slice(errAt + ERRORS.length + 1, shaAt)
    .split('\n')
    .filter((l) => l.trim() !== '')
  const hashes = parseSha256(stdout.slice(shaAt + SHA.length + 1))

  const serious = errors.filter((l) => !ABSENT_ERROR.test(l))
  if (serious.length > 0) throw new Error(`path probe: cannot inspect: ${serious.join('; ')}`)

  const found = new Map<string, PathState | PathStat>()
  for (const m of records.matchAll(RECORD)) {
    const [, y, mode, owner, group, size, mtimeText, target, path] = m as unknown as string[]
    const mtime = Number(mtimeText)
    if (y === 'f' && !hash) found.set(path, { type: 'file', mode, owner, group, size: Number(size), mtime })
    else if (y === 'f') {
      const sha256 = hashes.get(path)
      if (sha256 === undefined) throw new Error(`path probe: ${path} is a file but could not be hashed (unreadable?)`)
      found.set(path, { type: 'file', mode, owner, group, size: Number(size), mtime, sha256 })
    } else if (y === 'd') found.set(path, { type: 'directory', mode, owner, group, mtime })
    else if (y === 'l') found.set(path, { type: 'symlink', target, owner, group, mtime })
    else found.set(path, { type: 'other', mode, owner, group, mtime })
  }
  const out = new Map<string, PathState | PathStat>()
  for (const k of keys) out.set(k, found.get(k) ?? { type: 'absent' })
  return out
}

/** `sha256sum` lines: "<hex>  <name>", or "\<hex>  <escaped name>" when the name holds a backslash. */
function parseSha256(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const escaped = line.startsWith('\\')
    const body = escaped ? line.slice(1) : line
    const m = /^([0-9a-f]{64}) [ *](.*)$/.exec(body)
    if (!m) continue
    const name = escaped ? m[2].replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')) : m[2]
    out.set(name, m[1])
  }
  return out
}

/** The fact kind of a path: type, mode, owner, group, content hash, link target. */
export const pathFact: FactKind<PathState> = {
  name: 'path',
  coalesce: true,
  script: (keys) => script(keys, true),
  parse: (stdout, keys) => parse(stdout, keys, true) as Map<string, PathState>,
}

/** Like pathFact without the hash: mode, owner, size and mtime only. */
export const pathStatFact: FactKind<PathStat> = {
  name: 'path-stat',
  coalesce: true,
  script: (keys) => script(keys, false),
  parse: (stdout, keys) => parse(stdout, keys, false),
}

/** The state of one absolute path (type, mode, owner, group, hash or link target). */
export function pathState(path: string): FactQuery<PathState> {
  return query(pathFact, assertHostPath(path))
}

/** The state of one absolute path without its content hash, for paths only their metadata matters of. */
export function pathStat(path: string): FactQuery<PathStat> {
  return query(pathStatFact, assertHostPath(path))
}
