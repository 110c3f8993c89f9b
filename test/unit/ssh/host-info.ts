import type { HostInfo, SshSettings } from '../../../src/inventory/types.ts'

/** A resolved host for ssh-layer tests; only what the ssh layer reads. */
export function hostInfo(over: Partial<Omit<HostInfo, 'ssh'>> & { ssh?: SshSettings } = {}): HostInfo {
  const address = over.address ?? '127.0.0.1'
  return {
    name: over.name ?? address,
    address,
    port: over.port ?? 22,
    user: over.user ?? 'root',
    become: over.become ?? false,
    groups: over.groups ?? ['all'],
    vars: over.vars ?? {},
    ssh: over.ssh ?? {},
  }
}
