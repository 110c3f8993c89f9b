import type { HostInfo } from '../inventory/types.ts'

/**
 * Everything `connect()` reads of a host to open its connection, and nothing
 * secret: what a connection opened ahead of a run (preconnect) must match
 * exactly before the run may use it. Become settings are not part of it: they
 * apply per command, and an adopted connection takes the run's own HostInfo.
 */
export interface Endpoint {
  name: string
  address: string
  port: number
  user: string
  identityFile?: string
  knownHosts?: string
  connectTimeoutMs?: number
}

/**
 * The host's endpoint, or undefined when a connection to it must never be
 * opened ahead of the run: a password or a key passphrase would be sent or
 * used before the run knew it needs the host, and a bastion would be logged
 * into as well.
 */
export function endpointOf(host: HostInfo): Endpoint | undefined {
  if (host.jump || host.ssh.password !== undefined || host.ssh.passphrase !== undefined) return undefined
  return {
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    ...(host.ssh.identityFile !== undefined ? { identityFile: host.ssh.identityFile } : {}),
    ...(host.ssh.knownHosts !== undefined ? { knownHosts: host.ssh.knownHosts } : {}),
    ...(host.ssh.connectTimeoutMs !== undefined ? { connectTimeoutMs: host.ssh.connectTimeoutMs } : {}),
  }
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return (
    a.name === b.name &&
    a.address === b.address &&
    a.port === b.port &&
    a.user === b.user &&
    a.identityFile === b.identityFile &&
    a.knownHosts === b.knownHosts &&
    a.connectTimeoutMs === b.connectTimeoutMs
  )
}

/** A HostInfo with only the endpoint's fields: enough to connect, never to run a command as anyone but the login user. */
export function hostOfEndpoint(e: Endpoint): HostInfo {
  return {
    name: e.name,
    address: e.address,
    port: e.port,
    user: e.user,
    become: false,
    groups: [],
    vars: {},
    ssh: {
      ...(e.identityFile !== undefined ? { identityFile: e.identityFile } : {}),
      ...(e.knownHosts !== undefined ? { knownHosts: e.knownHosts } : {}),
      ...(e.connectTimeoutMs !== undefined ? { connectTimeoutMs: e.connectTimeoutMs } : {}),
    },
  }
}
