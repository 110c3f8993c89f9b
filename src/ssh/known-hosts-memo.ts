import { createHash, randomBytes } from 'node:crypto'
import { SaltedHmac } from './hmac-sha1.ts'
import type { Recalled } from './known-hosts.ts'

/**
 * Which hashed known_hosts lines matched which host, kept from one run to the
 * next. A hashed file gives every line a salt of its own, so finding a host's
 * lines means one HMAC per line of the file: quadratic for a fleet. The memo
 * makes a host seen before cost one HMAC per line it has, plus the lines
 * appended since.
 *
 * - Valid while the file's first `lines` lines are unchanged (their SHA-256):
 *   known_hosts grows by appending, so a run that recorded new hosts keeps
 *   the memo; `ssh-keygen -R` or an edit voids it, and the next run searches
 *   as if there were none.
 * - Hosts are stored as the file stores them, HMAC-SHA1 under a salt: the memo
 *   does not name the hosts the hashed file hides.
 * - It is a hint: KnownHostsIndex verifies each remembered line and searches
 *   line by line before a recalled host is refused or recorded.
 * Pure: text in, memo out; reading and writing it is host-key-check.ts.
 */
export interface FileMemo {
  /** The file's complete lines 1..lines, as they were searched: their text's SHA-256 (hex). */
  lines: number
  sha256: string
  /** base64; host tokens are kept as HMAC-SHA1(salt, token), base64 */
  salt: string
  /** token's HMAC → [through, ...line numbers]: lines 1..through were searched, and these matched */
  hosts: Record<string, number[]>
}

export interface MemoFile {
  version: 1
  files: Record<string, FileMemo>
}

/** Enough for a large fleet; beyond it, hosts not asked about in the last run are dropped first. */
export const MEMO_MAX_HOSTS = 200_000

/** The text of the first `lines` complete lines (through their newline), or undefined when the text has fewer. */
function prefixOf(text: string, lines: number): string | undefined {
  let end = 0
  for (let n = 0; n < lines; n++) {
    const nl = text.indexOf('\n', end)
    if (nl < 0) return undefined
    end = nl + 1
  }
  return text.slice(0, end)
}

export function completeLines(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++
  return n
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

/** Whether `memo` still describes the file whose text is `text`. */
export function memoValid(memo: FileMemo | undefined, text: string): memo is FileMemo {
  if (!memo || !Number.isInteger(memo.lines) || memo.lines < 0 || typeof memo.salt !== 'string' || typeof memo.hosts !== 'object') return false
  const prefix = prefixOf(text, memo.lines)
  return prefix !== undefined && sha256(prefix) === memo.sha256
}

function keyer(salt: string): (token: string) => string {
  const hmac = new SaltedHmac(Buffer.from(salt, 'base64'))
  return (token) => Buffer.from(hmac.digest(Buffer.from(token))).toString('base64')
}

/** The recall KnownHostsIndex takes, or undefined when the memo does not describe this text. */
export function recallFrom(memo: FileMemo | undefined, text: string): ((token: string) => Recalled | undefined) | undefined {
  if (!memoValid(memo, text)) return undefined
  const key = keyer(memo.salt)
  return (token) => {
    const v = memo.hosts[key(token)]
    if (!Array.isArray(v) || v.length === 0) return undefined
    const [through, ...lines] = v as [number, ...number[]]
    if (!Number.isInteger(through) || through > memo.lines || !lines.every((l) => Number.isInteger(l) && l >= 1 && l <= through)) return undefined
    return { through, lines }
  }
}

/** What a run learnt of one token: its hashed lines among the file's first `through` lines. */
export interface Learnt {
  token: string
  through: number
  lines: readonly number[]
}

/**
 * The memo to keep after a run on the file whose text is now `text`: what the
 * run learnt (later entries win), over what `prev` knew when it still describes
 * the text.
 */
export function nextMemo(prev: FileMemo | undefined, text: string, learnt: Iterable<Learnt>): FileMemo {
  const lines = completeLines(text)
  const keep = memoValid(prev, text)
  const salt = keep ? prev.salt : randomBytes(20).toString('base64')
  const key = keyer(salt)
  const fresh: Record<string, number[]> = {}
  for (const l of learnt) {
    // a match on an unfinished last line is not kept: the next run searches that line again
    const through = Math.min(l.through, lines)
    fresh[key(l.token)] = [through, ...l.lines.filter((n) => n <= through)]
  }
  const hosts: Record<string, number[]> = { ...fresh }
  let count = Object.keys(hosts).length
  if (keep) {
    for (const [k, v] of Object.entries(prev.hosts)) {
      if (count >= MEMO_MAX_HOSTS) break
      if (k in hosts) continue
      hosts[k] = v
      count++
    }
  }
  return { lines, sha256: sha256(prefixOf(text, lines) ?? ''), salt, hosts }
}
