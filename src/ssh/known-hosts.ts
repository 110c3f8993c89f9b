import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { prepareMessage, SaltedHmac } from './hmac-sha1.ts'

/**
 * OpenSSH known_hosts, read the way `ssh` reads it (sshd(8) "SSH_KNOWN_HOSTS
 * FILE FORMAT"). Pure: text in, verdicts out; reading and appending the file
 * is host-key-check.ts.
 */

/** How a line names its hosts: patterns in clear, or one HMAC-SHA1 hash (`ssh-keygen -H`). */
export type HostMatcher =
  | { kind: 'patterns'; patterns: readonly string[] }
  | { kind: 'hashed'; salt: Buffer; hash: Buffer }

export interface KnownHostsEntry {
  file: string
  line: number
  /** `@revoked`: this key must never be accepted. `@cert-authority` lines are not returned (we do not use certificates). */
  revoked: boolean
  hosts: HostMatcher
  keyType: string
  /** The key blob (wire format) as base64, exactly as written in the file. */
  keyBase64: string
}

export interface KnownHostsProblem {
  file: string
  line: number
  reason: string
}

export interface ParsedKnownHosts {
  entries: KnownHostsEntry[]
  /** Lines `ssh` would skip too; reported so a typo does not silently make a host unknown. */
  problems: KnownHostsProblem[]
}

export function parseKnownHosts(text: string, file: string): ParsedKnownHosts {
  const entries: KnownHostsEntry[] = []
  const problems: KnownHostsProblem[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1
    const trimmed = raw.trim()
    if (trimmed === '' || trimmed.startsWith('#')) return
    const fields = trimmed.split(/\s+/)
    let revoked = false
    if (fields[0].startsWith('@')) {
      const marker = fields.shift()!
      if (marker === '@cert-authority') return
      if (marker !== '@revoked') {
        problems.push({ file, line, reason: `unknown marker ${marker}` })
        return
      }
      revoked = true
    }
    const [hostField, keyType, keyBase64] = fields
    if (!hostField || !keyType || !keyBase64) {
      problems.push({ file, line, reason: 'expected "hosts keytype base64-key"' })
      return
    }
    const blob = Buffer.from(keyBase64, 'base64')
    if (blob.length === 0 || blob.toString('base64') !== keyBase64 || keyTypeOf(blob) !== keyType) {
      problems.push({ file, line, reason: `the key is not a valid ${keyType} key in base64` })
      return
    }
    const hosts = parseHostField(hostField)
    if (typeof hosts === 'string') {
      problems.push({ file, line, reason: hosts })
      return
    }
    entries.push({ file, line, revoked, hosts, keyType, keyBase64 })
  })
  return { entries, problems }
}

function parseHostField(field: string): HostMatcher | string {
  if (field.startsWith('|')) {
    const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(field)
    if (!m) return 'hashed host field is not |1|salt|hash'
    const salt = Buffer.from(m[1], 'base64')
    const hash = Buffer.from(m[2], 'base64')
    if (salt.length !== 20 || hash.length !== 20) return 'hashed host field: salt and hash must be 20 bytes each'
    return { kind: 'hashed', salt, hash }
  }
  return { kind: 'patterns', patterns: field.split(',').filter((p) => p !== '') }
}

/** The name known_hosts records for a host: `host` on port 22, `[host]:port` on any other. */
export function hostToken(host: string, port: number): string {
  const h = host.toLowerCase()
  return port === 22 ? h : `[${h}]:${port}`
}

/** Whether a line applies to host:port. A matching negated pattern (`!pat`) vetoes the line. */
export function entryMatches(entry: Pick<KnownHostsEntry, 'hosts'>, host: string, port: number): boolean {
  const token = hostToken(host, port)
  if (entry.hosts.kind === 'hashed') {
    const mac = createHmac('sha1', entry.hosts.salt).update(token).digest()
    return timingSafeEqual(mac, entry.hosts.hash)
  }
  let positive = false
  for (const p of entry.hosts.patterns) {
    const negated = p.startsWith('!')
    if (!wildcardMatch(negated ? p.slice(1) : p, token)) continue
    if (negated) return false
    positive = true
  }
  return positive
}

/** OpenSSH's match_pattern: `*` any run, `?` one character, everything else literal, case-insensitive. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase()
  const t = text.toLowerCase()
  // most lines name hosts literally: compare, and compile only real wildcards (once each)
  if (!p.includes('*') && !p.includes('?')) return p === t
  let re = compiled.get(p)
  if (!re) {
    const src = p
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('')
    compiled.set(p, (re = new RegExp(`^${src}$`, 's')))
  }
  return re.test(t)
}
const compiled = new Map<string, RegExp>()

/** The key type named inside a wire-format key blob (its first SSH string). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined
  const len = blob.readUInt32BE(0)
  if (len === 0 || 4 + len > blob.length) return undefined
  return blob.subarray(4, 4 + len).toString('latin1')
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` and `ssh` print it. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

export type HostKeyVerdict =
  | { kind: 'known'; entry: KnownHostsEntry }
  | { kind: 'revoked'; entry: KnownHostsEntry }
  /** Same key type recorded with different key material: possible man-in-the-middle. */
  | { kind: 'changed'; recorded: KnownHostsEntry[] }
  /** Only keys of other types are recorded: the server no longer offers the recorded type. Refused like a change. */
  | { kind: 'other-type'; recorded: KnownHostsEntry[] }
  | { kind: 'unknown' }

/** Decide about the key a server presented, the way `ssh` with StrictHostKeyChecking=yes would (revocation first). */
export function checkKnownHost(entries: readonly KnownHostsEntry[], host: string, port: number, blob: Buffer): HostKeyVerdict {
  return judgeLines(entries.filter((e) => entryMatches(e, host, port)), blob)
}

/** The verdict from the lines that apply to the host (KnownHostsIndex.linesFor), in file order. */
export function judgeLines(mine: readonly KnownHostsEntry[], blob: Buffer): HostKeyVerdict {
  const type = keyTypeOf(blob)
  const b64 = blob.toString('base64')
  const revoked = mine.find((e) => e.revoked && e.keyBase64 === b64)
  if (revoked) return { kind: 'revoked', entry: revoked }
  const plain = mine.filter((e) => !e.revoked)
  const known = plain.find((e) => e.keyBase64 === b64)
  if (known) return { kind: 'known', entry: known }
  const sameType = plain.filter((e) => e.keyType === type)
  if (sameType.length > 0) return { kind: 'changed', recorded: sameType }
  if (plain.length > 0) return { kind: 'other-type', recorded: plain }
  return { kind: 'unknown' }
}

/** Host-key algorithm names that produce a key of the recorded type. */
const ALGORITHMS_FOR_KEY_TYPE: Record<string, readonly string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
}

/**
 * The host-key algorithms of the keys recorded for host:port, in file order,
 * so the handshake asks for a key we can check instead of whichever type the
 * server lists first (as `ssh` does).
 */
export function recordedHostKeyAlgorithms(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  return algorithmsOfLines(entries.filter((e) => entryMatches(e, host, port)))
}

/** The same, from the lines that apply to the host. */
export function algorithmsOfLines(mine: readonly KnownHostsEntry[]): string[] {
  const out: string[] = []
  for (const e of mine) {
    if (e.revoked) continue
    for (const a of ALGORITHMS_FOR_KEY_TYPE[e.keyType] ?? []) if (!out.includes(a)) out.push(a)
  }
  return out
}

/** The line `--accept-new-host-keys` appends. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${hostToken(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}`
}

export function where(entry: Pick<KnownHostsEntry, 'file' | 'line'>): string {
  return `${entry.file}:${entry.line}`
}

/**
 * The lines of one known_hosts file that apply to a host, found without
 * testing every line against every host of a fleet:
 * - plain lines naming hosts literally sit in a map by host token;
 * - lines with wildcards or negations, and `@revoked` hashed lines (few, in
 *   practice), are tested in turn on every search;
 * - other hashed lines are grouped by salt, each salt's HMAC key schedule
 *   computed once (SaltedHmac), so a token costs one HMAC per distinct salt
 *   (two SHA-1 compressions) and a map look-up of the result. A hashed line
 *   names one host, so once a token claims it no later token tests it again.
 * Answers are kept per token: a connection's two questions (which key types
 * are recorded, then is this key known) cost one search.
 *
 * `ssh-keygen -H` gives every line a salt of its own, so a host's first search
 * tests each unclaimed salt once (what `ssh` itself does for every
 * connection). A `recall` (known-hosts-memo.ts: which lines matched the host
 * last run, and how far the file was searched then) replaces that search with
 * one HMAC per remembered line plus a search of the lines added since. A
 * recall is a hint, never trusted alone: each remembered line is verified, and
 * a recalled answer whose verdict is not `known` is searched again line by
 * line (allLinesFor) before anything is refused or recorded.
 */
/** Hashed lines sharing one salt, by the first 32 bits of their hash (the rest compared on a hit). */
interface SaltGroup {
  hmac: SaltedHmac
  byHash: Map<number, { words: Uint32Array; lines: number[] }[]>
  unclaimed: number
}

function hashWords(hash: Buffer): Uint32Array {
  const w = new Uint32Array(5)
  for (let i = 0; i < 5; i++) w[i] = hash.readUInt32BE(i * 4)
  return w
}

/** What a memo says of one token: the file's lines 1..through were searched, and these of them matched. */
export interface Recalled {
  through: number
  lines: readonly number[]
}

export class KnownHostsIndex {
  readonly #entries: readonly KnownHostsEntry[]
  readonly #literal = new Map<string, number[]>()
  readonly #scanned: number[] = []
  #salts: SaltGroup[] | undefined
  /** lines claimed by recalls before the salt groups were built */
  readonly #claimedEarly = new Set<number>()
  /** entry index of each hashed (not revoked) line, by file line number */
  readonly #hashedAt = new Map<number, number>()
  /** the same lines' numbers, ascending (entries come in file order) */
  readonly #hashedLines: number[] = []
  readonly #groupOf = new Map<number, SaltGroup>()
  readonly #answers = new Map<string, KnownHostsEntry[]>()
  readonly #recalled = new Set<string>()
  readonly #recall: ((token: string) => Recalled | undefined) | undefined

  constructor(entries: readonly KnownHostsEntry[], recall?: (token: string) => Recalled | undefined) {
    this.#entries = entries
    this.#recall = recall
    entries.forEach((e, i) => {
      if (e.hosts.kind === 'hashed') {
        if (e.revoked) return void this.#scanned.push(i)
        this.#hashedAt.set(e.line, i)
        this.#hashedLines.push(e.line)
        return
      }
      const literal = e.hosts.patterns.every((p) => !p.startsWith('!') && !p.includes('*') && !p.includes('?'))
      if (!literal) return void this.#scanned.push(i)
      for (const p of new Set(e.hosts.patterns.map((x) => x.toLowerCase()))) this.#literal.set(p, [...(this.#literal.get(p) ?? []), i])
    })
  }

  /**
   * The salt groups, built at the first search that needs them: a run whose
   * hosts are all recalled never pays for a key schedule per line. Lines
   * claimed before are left out.
   */
  #groups(): SaltGroup[] {
    if (this.#salts) return this.#salts
    const bySalt = new Map<string, SaltGroup>()
    for (const i of this.#hashedAt.values()) {
      if (this.#claimedEarly.has(i)) continue
      const e = this.#entries[i]!
      const { salt, hash } = e.hosts as { salt: Buffer; hash: Buffer }
      const key = salt.toString('base64')
      let group = bySalt.get(key)
      if (!group) bySalt.set(key, (group = { hmac: new SaltedHmac(salt), byHash: new Map(), unclaimed: 0 }))
      const words = hashWords(hash)
      const bucket = group.byHash.get(words[0]!) ?? []
      const same = bucket.find((b) => b.words.every((w, j) => w === words[j]))
      if (same) same.lines.push(i)
      else group.byHash.set(words[0]!, [...bucket, { words, lines: [i] }])
      group.unclaimed++
      this.#groupOf.set(i, group)
    }
    return (this.#salts = [...bySalt.values()])
  }

  /** Whether the file has hashed lines a memo could help with. */
  get hashed(): boolean {
    return this.#hashedAt.size > 0
  }

  /** The lines that apply to host:port, in file order. */
  linesFor(host: string, port: number): KnownHostsEntry[] {
    const token = hostToken(host, port)
    const known = this.#answers.get(token)
    if (known) return known
    const found = new Set<number>(this.#literal.get(token) ?? [])
    for (const i of this.#scanned) if (entryMatches(this.#entries[i]!, host, port)) found.add(i)
    const recalled = this.#recallHashed(token, host, port)
    if (recalled) {
      for (const i of recalled) found.add(i)
      this.#recalled.add(token)
    } else for (const i of this.#searchSalts(token)) found.add(i)
    const answer = [...found].sort((a, b) => a - b).map((i) => this.#entries[i]!)
    this.#answers.set(token, answer)
    return answer
  }

  /** Hosts searched so far, and how many of them were recalled from the memo. */
  get counts(): { searched: number; recalled: number } {
    return { searched: this.#answers.size, recalled: this.#recalled.size }
  }

  /** Whether host:port's answer came from a recall (and so must be searched again before a verdict other than `known` stands). */
  recalled(host: string, port: number): boolean {
    return this.#recalled.has(hostToken(host, port))
  }

  /** The lines that apply to host:port, every line tested: no index, no claims, no recall. */
  allLinesFor(host: string, port: number): KnownHostsEntry[] {
    return this.#entries.filter((e) => entryMatches(e, host, port))
  }

  /** Every token searched so far with the line numbers of its hashed (not revoked) lines: what a memo keeps. */
  *searched(): Iterable<[token: string, hashedLines: number[]]> {
    for (const [token, lines] of this.#answers) yield [token, lines.filter((e) => e.hosts.kind === 'hashed' && !e.revoked).map((e) => e.line)]
  }

  /** Each salt's HMAC of the token, once; the lines that match are claimed. */
  #searchSalts(token: string): number[] {
    const msg = prepareMessage(Buffer.from(token))
    const mac = new Uint32Array(5)
    const found: number[] = []
    const salts = this.#groups()
    let kept = 0
    for (const group of salts) {
      if (group.unclaimed > 0) {
        group.hmac.digestWords(msg, mac)
        const bucket = group.byHash.get(mac[0]!)
        const hit = bucket?.find((b) => b.words.every((w, j) => w === mac[j]))
        if (hit) {
          found.push(...hit.lines)
          bucket!.splice(bucket!.indexOf(hit), 1)
          group.unclaimed -= hit.lines.length
        }
      }
      // every line of this salt now belongs to another host: no later host tests it
      if (group.unclaimed > 0) salts[kept++] = group
    }
    salts.length = kept
    return found
  }

  /**
   * The token's hashed lines from the memo: each remembered line verified,
   * then the lines added after the memo's search tested in turn. Undefined
   * (search as usual) when there is no memo entry or one does not verify.
   */
  #recallHashed(token: string, host: string, port: number): number[] | undefined {
    const r = this.#recall?.(token)
    if (!r) return undefined
    const lines: number[] = []
    for (const line of r.lines) {
      const i = this.#hashedAt.get(line)
      if (i === undefined || line > r.through || !entryMatches(this.#entries[i]!, host, port)) return undefined
      lines.push(i)
    }
    for (const i of lines) this.#claim(i)
    // the lines appended since the memo's search: the first after `through`, by bisection
    let lo = 0
    let hi = this.#hashedLines.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#hashedLines[mid]! <= r.through) lo = mid + 1
      else hi = mid
    }
    for (let k = lo; k < this.#hashedLines.length; k++) {
      const i = this.#hashedAt.get(this.#hashedLines[k]!)!
      if (lines.includes(i) || !this.#unclaimed(i)) continue
      if (entryMatches(this.#entries[i]!, host, port)) {
        lines.push(i)
        this.#claim(i)
      }
    }
    return lines
  }

  #unclaimed(i: number): boolean {
    if (!this.#salts) return !this.#claimedEarly.has(i)
    const words = hashWords((this.#entries[i]!.hosts as { hash: Buffer }).hash)
    return !!this.#groupOf.get(i)?.byHash.get(words[0]!)?.some((b) => b.lines.includes(i))
  }

  #claim(i: number): void {
    if (!this.#salts) return void this.#claimedEarly.add(i)
    const group = this.#groupOf.get(i)
    if (!group) return
    const words = hashWords((this.#entries[i]!.hosts as { hash: Buffer }).hash)
    const bucket = group.byHash.get(words[0]!)
    const b = bucket?.find((x) => x.lines.includes(i))
    if (!b) return
    b.lines.splice(b.lines.indexOf(i), 1)
    if (b.lines.length === 0) bucket!.splice(bucket!.indexOf(b), 1)
    group.unclaimed--
  }
}
