import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import { requirePackage } from '../core/require-package.ts'
import { UsageError } from '../core/errors.ts'

/**
 * A vault file: named secrets, encrypted with a password, safe to commit.
 *
 *   $MUSTER_VAULT;1;scrypt:N=32768,r=8,p=1;aes-256-gcm
 *   salt:<base64>
 *   iv:<base64>
 *   <base64 of ciphertext and GCM tag, 76 columns>
 *
 * The key is scrypt(password, salt); the header line is authenticated with
 * the data, so its parameters cannot be weakened unnoticed. The plaintext is
 * a YAML mapping of name to string (multi-line values, such as TLS keys, as
 * YAML block scalars). scrypt at N=2^15 costs ~90 ms and 32 MB once per
 * process (the key is cached): against Ansible Vault's PBKDF2 at 10,000
 * rounds it makes each password guess ~100x dearer.
 */

// loaded when a vault is opened, not when muster starts: every run would pay ~10 ms for it
const yaml = (): typeof import('yaml') => requirePackage('yaml') as typeof import('yaml')

export const VAULT_MAGIC = '$MUSTER_VAULT'

export interface KdfParams {
  N: number
  r: number
  p: number
}

export const DEFAULT_KDF: KdfParams = { N: 32768, r: 8, p: 1 }

export type VaultEntries = Record<string, string>

/** Bad vault input: the file, the line when there is one, and what to do. */
export class VaultError extends UsageError {
  constructor(message: string) {
    super(message)
    this.name = 'VaultError'
  }
}

const keyCache = new Map<string, Buffer>()

function deriveKey(password: string, salt: Buffer, kdf: KdfParams): Buffer {
  const id = `${kdf.N},${kdf.r},${kdf.p}:${salt.toString('base64')}:${password}`
  let key = keyCache.get(id)
  if (!key) {
    key = scryptSync(password.normalize('NFC'), salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 1024 * 1024 })
    keyCache.set(id, key)
  }
  return key
}

function headerLine(kdf: KdfParams): string {
  return `${VAULT_MAGIC};1;scrypt:N=${kdf.N},r=${kdf.r},p=${kdf.p};aes-256-gcm`
}

/** Does this text look like a vault (its first line)? */
export function isVaultText(text: string): boolean {
  return text.startsWith(`${VAULT_MAGIC};`)
}

export function encryptVault(entries: VaultEntries, password: string, kdf: KdfParams = DEFAULT_KDF): string {
  checkPassword(password)
  const header = headerLine(kdf)
  const salt = randomBytes(16)
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', deriveKey(password, salt, kdf), iv)
  cipher.setAAD(Buffer.from(header))
  const body = Buffer.concat([cipher.update(Buffer.from(entriesToYaml(entries))), cipher.final(), cipher.getAuthTag()]).toString('base64')
  return [header, `salt:${salt.toString('base64')}`, `iv:${iv.toString('base64')}`, ...(body.match(/.{1,76}/g) ?? [])].join('\n') + '\n'
}

/** Decrypt a vault's text; `file` only names it in errors. */
export function decryptVault(text: string, password: string, file: string): VaultEntries {
  const lines = text.split('\n').map((l) => l.trim())
  const header = lines[0] ?? ''
  const m = /^\$MUSTER_VAULT;(\d+);scrypt:N=(\d+),r=(\d+),p=(\d+);aes-256-gcm$/.exec(header)
  if (!m) {
    if (isVaultText(header)) throw new VaultError(`${file}: line 1: a vault format this muster does not know (${header}); a newer muster wrote it?`)
    throw new VaultError(`${file}: line 1: not a muster vault (it starts \`${header.slice(0, 40)}\`; a vault starts \`${VAULT_MAGIC};1;\`)`)
  }
  if (m[1] !== '1') throw new VaultError(`${file}: line 1: vault format version ${m[1]} is newer than this muster reads (1)`)
  const kdf = { N: Number(m[2]), r: Number(m[3]), p: Number(m[4]) }
  // bounded before anything is derived: a tampered header must not cost gigabytes or minutes before it is refused
  if (kdf.N < 1024 || (kdf.N & (kdf.N - 1)) !== 0 || kdf.r < 1 || kdf.r > 32 || kdf.p < 1 || kdf.p > 16 || kdf.N * kdf.r > 2 ** 21) {
    throw new VaultError(`${file}: line 1: unusable scrypt parameters N=${kdf.N},r=${kdf.r},p=${kdf.p}`)
  }
  const field = (n: number, name: string, bytes: number): Buffer => {
    const line = lines[n] ?? ''
    const value = line.startsWith(`${name}:`) ? Buffer.from(line.slice(name.length + 1), 'base64') : undefined
    if (!value || value.length !== bytes) throw new VaultError(`${file}: line ${n + 1}: expected \`${name}:\` and ${bytes} bytes of base64`)
    return value
  }
  const salt = field(1, 'salt', 16)
  const iv = field(2, 'iv', 12)
  const body = lines.slice(3).join('')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new VaultError(`${file}: the encrypted data (line 4 on) is not base64: was the file edited by hand? use \`muster vault edit\``)
  const data = Buffer.from(body, 'base64')
  if (data.length < 16) throw new VaultError(`${file}: the encrypted data is cut short`)
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(password, salt, kdf), iv)
  decipher.setAAD(Buffer.from(header))
  decipher.setAuthTag(data.subarray(data.length - 16))
  let plain: string
  try {
    plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8')
  } catch {
    throw new VaultError(`${file}: cannot decrypt: the vault password is wrong, or the file was changed since it was written`)
  }
  return parseEntries(plain, `${file} (decrypted)`)
}

/** A YAML mapping of name to string, as `vault edit` shows it. */
export function entriesToYaml(entries: VaultEntries): string {
  if (Object.keys(entries).length === 0) return '{}\n'
  return yaml().stringify(sorted(entries), { lineWidth: 0, blockQuote: 'literal' })
}

/** Parse what a user wrote (or a vault held): every value a non-empty string; errors name the line. */
export function parseEntries(text: string, source: string): VaultEntries {
  // failsafe: every value stays the text that was written (0123 stays 0123, 1e3 stays 1e3)
  const doc = yaml().parseDocument(text, { uniqueKeys: true, schema: 'failsafe' })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const line = e.linePos?.[0]?.line
    throw new VaultError(`${source}${line ? `: line ${line}` : ''}: ${e.message.split('\n')[0]}`)
  }
  const value: unknown = doc.toJS()
  if (value === null || value === undefined) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new VaultError(`${source}: a vault holds a mapping of name: secret, not a ${Array.isArray(value) ? 'list' : typeof value}`)
  const out: VaultEntries = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    checkName(k, source)
    if (typeof v === 'string' && v.length > 0) out[k] = v
    else throw new VaultError(`${source}: "${k}" must be a non-empty string (quote it: ${k}: "...")`)
  }
  return out
}

export function checkName(name: string, source = 'vault'): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new VaultError(`${source}: secret name "${name}": use letters, digits, '.', '_' and '-' (starting with a letter or digit)`)
}

export function checkPassword(password: string): void {
  if (password.length < 8) throw new VaultError('a vault password needs at least 8 characters')
}

function sorted(entries: VaultEntries): VaultEntries {
  return Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)))
}
