import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import ssh2 from 'ssh2'
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType, ParsedKey } from 'ssh2'
import type { HostInfo } from '../inventory/types.ts'
import { expandHome } from './home.ts'
import { UnreachableError } from './connection.ts'

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

export async function planAuth(host: HostInfo, env: AuthEnvironment = currentAuthEnvironment()): Promise<AuthPlan> {
  const candidates: AuthCandidate[] = []
  const skipped: string[] = []
  const ssh = host.ssh
  if (ssh.identityFile) {
    const file = expandHome(ssh.identityFile, env.home)
    let data: Buffer
    try {
      data = await readFile(file)
    } catch (e) {
      throw new UnreachableError(host.name, `cannot read identity file ${file}: ${(e as Error).message}`, e)
    }
    const key = ssh2.utils.parseKey(data, ssh.passphrase?.reveal())
    if (key instanceof Error) {
      const why = ssh.passphrase ? 'wrong passphrase or unsupported key' : 'encrypted key needs ssh.passphrase, or unsupported key'
      throw new UnreachableError(host.name, `cannot use identity file ${file}: ${why} (${key.message})`, key)
    }
    candidates.push({ kind: 'key', label: `key ${file}`, key: first(key) })
  } else {
    if (env.agentSocket) candidates.push({ kind: 'agent', label: `ssh-agent at ${env.agentSocket}`, socket: env.agentSocket })
    for (const name of DEFAULT_KEY_FILES) {
      const file = join(env.home, '.ssh', name)
      let data: Buffer
      try {
        data = await readFile(file)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
        skipped.push(`${file} (${(e as Error).message})`)
        continue
      }
      const key = ssh2.utils.parseKey(data)
      if (key instanceof Error) skipped.push(`${file} (encrypted or unsupported: ${key.message})`)
      else candidates.push({ kind: 'key', label: `key ${file}`, key: first(key) })
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
