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
 * - lines with wildcards or negations (few, in practice) are tested in turn;
 * - hashed lines are grouped by salt, each salt's HMAC key schedule computed
 *   once (SaltedHmac), so a token costs one HMAC per distinct salt (two SHA-1
 *   compressions) and a map look-up of the result. A hashed line names one
 *   host, so once a token claims it no later token tests it again.
 * Answers are kept per token: a connection's two questions (which key types
 * are recorded, then is this key known) cost one search.
 *
 * What stays: `ssh-keygen -H` gives every line a salt of its own, so the first
 * search for a host still tests each unclaimed salt once (what `ssh` itself
 * does for every connection); that is the point of hashing the file.
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

export class KnownHostsIndex {
  readonly #entries: readonly KnownHostsEntry[]
  readonly #literal = new Map<string, number[]>()
  readonly #scanned: number[] = []
  readonly #salts: SaltGroup[]
  readonly #answers = new Map<string, KnownHostsEntry[]>()

  constructor(entries: readonly KnownHostsEntry[]) {
    this.#entries = entries
    const bySalt = new Map<string, SaltGroup>()
    entries.forEach((e, i) => {
      if (e.hosts.kind === 'hashed') {
        const key = e.hosts.salt.toString('base64')
        let group = bySalt.get(key)
        if (!group) bySalt.set(key, (group = { hmac: new SaltedHmac(e.hosts.salt), byHash: new Map(), unclaimed: 0 }))
        const words = hashWords(e.hosts.hash)
        const bucket = group.byHash.get(words[0]!) ?? []
        const same = bucket.find((b) => b.words.every((w, j) => w === words[j]))
        if (same) same.lines.push(i)
        else group.byHash.set(words[0]!, [...bucket, { words, lines: [i] }])
        group.unclaimed++
        return
      }
      const literal = e.hosts.patterns.every((p) => !p.startsWith('!') && !p.includes('*') && !p.includes('?'))
      if (!literal) return void this.#scanned.push(i)
      for (const p of new Set(e.hosts.patterns.map((x) => x.toLowerCase()))) this.#literal.set(p, [...(this.#literal.get(p) ?? []), i])
    })
    this.#salts = [...bySalt.values()]
  }

  /** The lines that apply to host:port, in file order. */
  linesFor(host: string, port: number): KnownHostsEntry[] {
    const token = hostToken(host, port)
    const known = this.#answers.get(token)
    if (known) return known
    const found = new Set<number>(this.#literal.get(token) ?? [])
    for (const i of this.#scanned) if (entryMatches(this.#entries[i]!, host, port)) found.add(i)
    const msg = prepareMessage(Buffer.from(token))
    const mac = new Uint32Array(5)
    let kept = 0
    for (const group of this.#salts) {
      group.hmac.digestWords(msg, mac)
      const bucket = group.byHash.get(mac[0]!)
      const hit = bucket?.find((b) => b.words.every((w, j) => w === mac[j]))
      if (hit) {
        for (const i of hit.lines) found.add(i)
        bucket!.splice(bucket!.indexOf(hit), 1)
        group.unclaimed -= hit.lines.length
      }
      // every line of this salt now belongs to another host: no later host tests it
      if (group.unclaimed > 0) this.#salts[kept++] = group
    }
    this.#salts.length = kept
    const answer = [...found].sort((a, b) => a - b).map((i) => this.#entries[i]!)
    this.#answers.set(token, answer)
    return answer
  }
}
