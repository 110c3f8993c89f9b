import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

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
  const type = keyTypeOf(blob)
  const b64 = blob.toString('base64')
  const mine = entries.filter((e) => entryMatches(e, host, port))
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
  const out: string[] = []
  for (const e of entries) {
    if (e.revoked || !entryMatches(e, host, port)) continue
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
