import { createHmac, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ssh2 from 'ssh2'
import { hostToken } from '../../src/ssh/known-hosts.ts'

/**
 * Keys for the in-process fleet, generated once per bench: one host key all
 * simulated hosts present, and one client key the servers accept.
 */
export interface BenchKeys {
  hostKeyFile: string
  /** "ssh-ed25519 AAAA..." */
  hostPublicKey: string
  clientKeyFile: string
  clientPublicKey: string
}

export function writeBenchKeys(dir: string): BenchKeys {
  const host = ssh2.utils.generateKeyPairSync('ed25519')
  const client = ssh2.utils.generateKeyPairSync('ed25519')
  const hostKeyFile = join(dir, 'host_ed25519')
  const clientKeyFile = join(dir, 'id_ed25519')
  writeFileSync(hostKeyFile, host.private, { mode: 0o600 })
  writeFileSync(clientKeyFile, client.private, { mode: 0o600 })
  return { hostKeyFile, hostPublicKey: host.public.trim(), clientKeyFile, clientPublicKey: client.public.trim() }
}

/**
 * plain, hashed: one line per simulated host, as a real fleet's known_hosts
 * has (its size is part of what each connection costs the controller).
 * wildcard: one line for the whole fleet (`[127.1.*]:port`), the size-free
 * baseline that shows what the per-host lines cost.
 */
export type KnownHostsStyle = 'plain' | 'hashed' | 'wildcard'

export function writeKnownHosts(file: string, endpoints: readonly { address: string; port: number }[], hostPublicKey: string, style: KnownHostsStyle): void {
  const [type, blob] = hostPublicKey.split(' ')
  const fields =
    style === 'wildcard'
      ? [...new Set(endpoints.map(({ address, port }) => hostToken(address.replace(/^(127\.1)\..*$/, '$1.*'), port)))]
      : endpoints.map(({ address, port }) => hostField(hostToken(address, port), style))
  writeFileSync(file, fields.map((f) => `${f} ${type} ${blob}`).join('\n') + '\n')
}

/** OpenSSH's HashKnownHosts form: |1|base64(salt)|base64(HMAC-SHA1(salt, host token)). */
export function hostField(token: string, style: 'plain' | 'hashed'): string {
  if (style === 'plain') return token
  const salt = randomBytes(20)
  const mac = createHmac('sha1', salt).update(token).digest()
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`
}
