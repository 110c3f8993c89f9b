import { createPrivateKey, sign as cryptoSign } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType, ParsedKey } from 'ssh2'
import { requirePackage } from '../core/require-package.ts'
import type { HostInfo } from '../inventory/types.ts'
import { expandHome } from './home.ts'
import { UnreachableError } from './connection.ts'

const ssh2 = requirePackage('ssh2') as typeof import('ssh2')

/**
 * Which credentials to offer, in the order `ssh` would: an explicit identity
 * file alone; otherwise the agent, then the default key files that exist;
 * a password last and only if one was given.
 */

export type AuthCandidate =
  | { kind: 'key'; label: string; key: ParsedKey }
  | { kind: 'agent'; label: string; socket: string }
  | { kind: 'password'; label: string; password: string }

export interface AuthPlan {
  candidates: AuthCandidate[]
  /** Keys found but not usable (encrypted without a passphrase), so the failure message can say why. */
  skipped: string[]
}

export interface AuthEnvironment {
  home: string
  /** SSH_AUTH_SOCK */
  agentSocket?: string
}

export const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const

export function currentAuthEnvironment(): AuthEnvironment {
  return { home: homedir(), agentSocket: process.env.SSH_AUTH_SOCK || undefined }
}

/** What reading one key file gave: the key, or why not. */
type KeyRead = { key: ParsedKey } | { readError: NodeJS.ErrnoException } | { parseError: Error }

/**
 * Key files read and parsed once per run (the pool passes one cache to every
 * connection): parsing a private key costs the controller ~0.3 ms, paid per
 * connection otherwise. Keyed by file and passphrase.
 */
export type KeyCache = Map<string, Promise<KeyRead>>

function readKey(file: string, passphrase: string | undefined, cache: KeyCache | undefined): Promise<KeyRead> {
  const id = `${file}\0${passphrase ?? ''}`
  const hit = cache?.get(id)
  if (hit) return hit
  const read = readFile(file).then(
    (data): KeyRead => {
      const key = ssh2.utils.parseKey(data, passphrase)
      return key instanceof Error ? { parseError: key } : { key: signingOnce(first(key)) }
    },
    (e: NodeJS.ErrnoException): KeyRead => ({ readError: e }),
  )
  cache?.set(id, read)
  return read
}

/** The hash ssh2 signs with when the server names none (its own table, by key type). */
const DEFAULT_SIGN_HASH: Record<string, string | null> = {
  'ssh-ed25519': null,
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
  'ssh-rsa': 'sha1',
  'ssh-dss': 'sha1',
}

/**
 * ssh2 signs with the key's PEM text, which OpenSSL parses again on every
 * signature: ~0.45 ms of the controller's CPU per connection for an ed25519
 * key, against ~0.03 ms with a parsed KeyObject. The key signs the same
 * bytes with the same algorithm and returns what ssh2's own sign() would
 * (a Buffer, or the Error), only from a key parsed once.
 */
function signingOnce(key: ParsedKey): ParsedKey {
  if (!key.isPrivateKey() || !(key.type in DEFAULT_SIGN_HASH)) return key
  let keyObject: ReturnType<typeof createPrivateKey>
  try {
    keyObject = createPrivateKey(key.getPrivatePEM())
  } catch {
    return key // ssh2's own path then says what is wrong with it
  }
  const fallback = DEFAULT_SIGN_HASH[key.type]!
  // ssh2 calls sign() and takes an Error back for a failure (its types say Buffer only)
  const sign = (data: string | Buffer, algo?: string): Buffer | Error => {
    try {
      return cryptoSign(algo && typeof algo === 'string' ? algo : fallback, typeof data === 'string' ? Buffer.from(data) : data, keyObject)
    } catch (e) {
      return e as Error
    }
  }
  ;(key as unknown as { sign: typeof sign }).sign = sign
  return key
}

export async function planAuth(host: HostInfo, env: AuthEnvironment = currentAuthEnvironment(), cache?: KeyCache): Promise<AuthPlan> {
  const candidates: AuthCandidate[] = []
  const skipped: string[] = []
  const ssh = host.ssh
  if (ssh.identityFile) {
    const file = expandHome(ssh.identityFile, env.home)
    const got = await readKey(file, ssh.passphrase?.reveal(), cache)
    if ('readError' in got) throw new UnreachableError(host.name, `cannot read identity file ${file}: ${got.readError.message}`, got.readError)
    if ('parseError' in got) {
      const why = ssh.passphrase ? 'wrong passphrase or unsupported key' : 'encrypted key needs ssh.passphrase, or unsupported key'
      throw new UnreachableError(host.name, `cannot use identity file ${file}: ${why} (${got.parseError.message})`, got.parseError)
    }
    candidates.push({ kind: 'key', label: `key ${file}`, key: got.key })
  } else {
    if (env.agentSocket) candidates.push({ kind: 'agent', label: `ssh-agent at ${env.agentSocket}`, socket: env.agentSocket })
    for (const name of DEFAULT_KEY_FILES) {
      const file = join(env.home, '.ssh', name)
      const got = await readKey(file, undefined, cache)
      if ('readError' in got) {
        if (got.readError.code !== 'ENOENT') skipped.push(`${file} (${got.readError.message})`)
      } else if ('parseError' in got) skipped.push(`${file} (encrypted or unsupported: ${got.parseError.message})`)
      else candidates.push({ kind: 'key', label: `key ${file}`, key: got.key })
    }
  }
  if (ssh.password) candidates.push({ kind: 'password', label: 'password', password: ssh.password.reveal() })
  return { candidates, skipped }
}

/**
 * An ssh2 authHandler that offers the candidates in order, skipping those the
 * server does not accept, and writes each label it tried into `tried`.
 */
export function authHandler(user: string, plan: AuthPlan, tried: string[]): AuthHandlerMiddleware {
  const queue = [...plan.candidates]
  return (methodsLeft, _partial, next) => {
    // methodsLeft is null before the server's first answer
    const allowed = (m: AuthenticationType): boolean => !methodsLeft || methodsLeft.includes(m)
    for (;;) {
      const c = queue.shift()
      // ssh2 takes `false` for "nothing left", though its types do not say so
      if (!c) return (next as (m: AnyAuthMethod | false) => void)(false)
      const method = toMethod(user, c)
      const wire: AuthenticationType = c.kind === 'password' ? 'password' : 'publickey'
      if (!allowed(wire)) continue
      tried.push(c.label)
      return next(method)
    }
  }
}

function toMethod(user: string, c: AuthCandidate): AnyAuthMethod {
  switch (c.kind) {
    case 'key':
      return { type: 'publickey', username: user, key: c.key }
    case 'agent':
      return { type: 'agent', username: user, agent: c.socket }
    case 'password':
      return { type: 'password', username: user, password: c.password }
  }
}

/** The sentence an authentication failure ends with: who, and with what. */
export function describeAuthFailure(user: string, plan: AuthPlan, tried: readonly string[]): string {
  const parts = [`authentication failed for user ${user}`]
  if (plan.candidates.length === 0) {
    parts.push('no credentials to offer: no ssh.identityFile, SSH_AUTH_SOCK unset, none of ~/.ssh/' + DEFAULT_KEY_FILES.join(', ~/.ssh/') + ' usable, no ssh.password')
  } else {
    parts.push(tried.length ? `tried ${tried.join('; ')}` : `the server accepts none of: ${plan.candidates.map((c) => c.label).join('; ')}`)
  }
  if (plan.skipped.length) parts.push(`skipped ${plan.skipped.join('; ')}`)
  return parts.join(': ')
}

function first(key: ParsedKey | ParsedKey[]): ParsedKey {
  return Array.isArray(key) ? key[0] : key
}
