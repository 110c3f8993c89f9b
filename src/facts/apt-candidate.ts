import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertPackageName } from './apt-package.ts'

/**
 * What apt would install: the installed version and the candidate from the
 * package lists (null: "(none)", or a name apt does not know at all).
 */
export interface AptCandidate {
  installed: string | null
  candidate: string | null
}

/**
 * One `apt-cache policy` for every package of the batch. It costs a read of
 * the whole package cache, so only resources that need a candidate (state
 * `latest`, a pinned version) ask for it. Unknown names print nothing on
 * stdout, so they get nulls.
 */
function script(keys: readonly string[]): string {
  keys.forEach(assertPackageName)
  return `LC_ALL=C apt-cache policy ${sh`${keys}`} 2>/dev/null`
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, AptCandidate> {
  if (code !== 0) throw new Error(`apt-candidate probe: apt-cache policy exited ${code}`)
  return parsePolicy(stdout, keys)
}

/** `apt-cache policy` blocks, one per key (nulls for a name apt does not know). */
export function parsePolicy(stdout: string, keys: readonly string[]): Map<string, AptCandidate> {
  const blocks = new Map<string, AptCandidate>()
  let current: AptCandidate | null = null
  for (const line of stdout.split('\n')) {
    // a block starts with the name at column 0: "nginx:" (native) or "libc6:i386:" (foreign arch)
    const head = /^(\S+):$/.exec(line)
    if (head) {
      current = { installed: null, candidate: null }
      blocks.set(head[1]!, current)
      continue
    }
    const field = /^ {2}(Installed|Candidate): (.*)$/.exec(line)
    if (field && current) {
      const v = field[2]!.trim()
      current[field[1] === 'Installed' ? 'installed' : 'candidate'] = v === '(none)' ? null : v
    }
  }
  const out = new Map<string, AptCandidate>()
  for (const key of keys) {
    // apt names native and arch:all packages without their qualifier
    const v = blocks.get(key) ?? blocks.get(key.split(':')[0]!)
    out.set(key, v ?? { installed: null, candidate: null })
  }
  return out
}

export const aptCandidateFact: FactKind<AptCandidate> = {
  name: 'apt-candidate',
  coalesce: true,
  script,
  parse,
}

/** The installed and candidate versions of one package, as `apt-cache policy` tells. */
export function aptCandidate(name: string): FactQuery<AptCandidate> {
  return query(aptCandidateFact, assertPackageName(name))
}
