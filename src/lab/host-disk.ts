import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { runOk } from './command.ts'
import { isMountPoint, unmountUnder } from './mounts.ts'
import { tool } from './preflight.ts'
import { bridge, proxyPort, type HostPaths } from './layout.ts'
import type { HostIdentity } from './ssh-trust.ts'

/**
 * A host's disk: an overlay of its own upper dir over the shared base image.
 * Deleting the upper dir gives back a bare host. Its identity (host keys,
 * machine-id, hostname, the lab's key for root, /etc/hosts) is written into
 * the mounted overlay from the controller before it boots.
 */

export async function mountDisk(base: string, paths: HostPaths, host: string): Promise<void> {
  if (isMountPoint(paths.root)) return
  for (const d of [paths.upper, paths.work, paths.root]) mkdirSync(d, { recursive: true })
  await runOk(tool('mount'), ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${paths.upper},workdir=${paths.work}`, paths.root], { host })
}

/** Unmount the disk (and anything a crashed boot left mounted on it). */
export async function unmountDisk(paths: HostPaths): Promise<void> {
  await unmountUnder(paths.root)
}

/** Forget every change made on the host: it is bare again. Only with the disk unmounted. */
export function wipeDisk(paths: HostPaths): void {
  rmSync(paths.upper, { recursive: true, force: true })
  rmSync(paths.work, { recursive: true, force: true })
}

export interface FleetEntry {
  name: string
  address: string
}

export function writeIdentity(root: string, host: string, identity: HostIdentity, clientPublicKey: string, fleet: readonly FleetEntry[]): void {
  const at = (rel: string): string => join(root, rel)
  for (const [name, key] of Object.entries(identity.hostKeys)) writeWithMode(at(`etc/ssh/${name}`), key.content, key.mode)
  writeWithMode(at('etc/machine-id'), `${identity.machineId}\n`, 0o444)
  writeWithMode(at('etc/hostname'), `${host}\n`, 0o644)
  writeHostsFile(root, fleet)
  // apt's way out is this lab's proxy (labs side by side each have their own, on their own bridge)
  const proxy = `http://${bridge.address}:${proxyPort}`
  writeWithMode(at('etc/apt/apt.conf.d/01muster-lab-proxy'), `Acquire::http::Proxy "${proxy}";\nAcquire::https::Proxy "${proxy}";\n`, 0o644)
  // keep whatever keys a playbook added for root; make sure the lab's is among them
  const authorized = at('root/.ssh/authorized_keys')
  mkdirSync(dirname(authorized), { recursive: true, mode: 0o700 })
  chmodSync(dirname(authorized), 0o700)
  const current = existsSync(authorized) ? readFileSync(authorized, 'utf8') : ''
  if (!current.split('\n').some((l) => l.trim() === clientPublicKey)) {
    writeWithMode(authorized, `${current}${current && !current.endsWith('\n') ? '\n' : ''}${clientPublicKey}\n`, 0o600)
  }
}

/** Refresh the lab block of a (running or stopped) host's /etc/hosts; other lines are the host's own. */
export function writeHostsFile(root: string, fleet: readonly FleetEntry[]): void {
  const file = join(root, 'etc/hosts')
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  const next = hostsFileText(current, fleet)
  if (next !== current) writeWithMode(file, next, 0o644)
}

const begin = '# BEGIN muster lab hosts (kept up to date by `muster lab up`)'
const end = '# END muster lab hosts'

export function hostsFileText(current: string | undefined, fleet: readonly FleetEntry[]): string {
  const block = [begin, ...fleet.map((h) => `${h.address}\t${h.name}`), end].join('\n')
  const start = current?.indexOf(begin) ?? -1
  const stop = current?.indexOf(end) ?? -1
  if (current !== undefined && start >= 0 && stop > start) return current.slice(0, start) + block + current.slice(stop + end.length)
  const head = current?.trim()
    ? current.trimEnd()
    : ['127.0.0.1\tlocalhost', '::1\t\tlocalhost ip6-localhost ip6-loopback', 'ff02::1\t\tip6-allnodes', 'ff02::2\t\tip6-allrouters'].join('\n')
  return `${head}\n\n${block}\n`
}

function writeWithMode(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true })
  rmSync(file, { force: true }) // a symlink in the image must not redirect our write
  writeFileSync(file, content, { mode })
  chmodSync(file, mode)
}
