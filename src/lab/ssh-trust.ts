import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { labFiles } from './layout.ts'
import { runOk } from './command.ts'
import { tool } from './preflight.ts'

/**
 * The keys on both sides of the lab's SSH: the controller's client key, and
 * each host's own host keys and machine-id. Host identities live in the lab
 * dir, not in the host's disk, so a reset or a crashed host comes back with
 * the same keys and known_hosts stays true; every host has its own, so
 * checking them means something.
 */

export const hostKeyTypes = ['ed25519', 'ecdsa'] as const

export interface HostIdentity {
  /** File name in /etc/ssh -> content. */
  hostKeys: Record<string, { content: string; mode: number }>
  publicKeys: string[]
  machineId: string
}

async function keygen(type: string, file: string, comment: string): Promise<void> {
  // generate beside and rename, so an interrupted run never leaves a key without its .pub
  const tmp = `${file}.tmp${process.pid}`
  await runOk(tool('ssh-keygen'), ['-q', '-t', type, '-N', '', '-C', comment, '-f', tmp])
  renameSync(`${tmp}.pub`, `${file}.pub`)
  renameSync(tmp, file)
}

/** The lab's client key (id_ed25519 in the lab dir); returns the public key line. */
export async function ensureClientKey(): Promise<string> {
  const file = labFiles.clientKey()
  if (!existsSync(file) || !existsSync(`${file}.pub`)) {
    mkdirSync(join(file, '..'), { recursive: true })
    await keygen('ed25519', file, 'muster-lab')
  }
  return readFileSync(`${file}.pub`, 'utf8').trim()
}

export async function ensureHostIdentity(host: string): Promise<HostIdentity> {
  const dir = labFiles.identity(host)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const hostKeys: HostIdentity['hostKeys'] = {}
  const publicKeys: string[] = []
  for (const type of hostKeyTypes) {
    const name = `ssh_host_${type}_key`
    const file = join(dir, name)
    if (!existsSync(file) || !existsSync(`${file}.pub`)) await keygen(type, file, `root@${host}`)
    hostKeys[name] = { content: readFileSync(file, 'utf8'), mode: 0o600 }
    const pub = readFileSync(`${file}.pub`, 'utf8')
    hostKeys[`${name}.pub`] = { content: pub, mode: 0o644 }
    publicKeys.push(pub.trim())
  }
  const idFile = join(dir, 'machine-id')
  if (!existsSync(idFile)) writeFileSync(idFile, randomBytes(16).toString('hex') + '\n')
  return { hostKeys, publicKeys, machineId: readFileSync(idFile, 'utf8').trim() }
}

/** known_hosts for the fleet: each host under its name and its address, with its own keys. */
export function knownHostsText(hosts: readonly { name: string; address: string; publicKeys: readonly string[] }[]): string {
  const lines = ['# written by `muster lab`: the lab hosts\' own host keys']
  for (const h of hosts) {
    for (const pub of h.publicKeys) {
      const [type, blob] = pub.split(/\s+/)
      lines.push(`${h.name},${h.address} ${type} ${blob}`)
    }
  }
  return lines.join('\n') + '\n'
}

export function writeKnownHosts(text: string): void {
  const file = labFiles.knownHosts()
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, text, { mode: 0o644 })
  renameSync(tmp, file)
}
