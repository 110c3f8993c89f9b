import type { HostSpec } from '../inventory/types.ts'
import { labFiles } from './layout.ts'
import { requireState } from './require-state.ts'

/**
 * The lab's hosts as inventory entries: address, root, the lab's key and
 * the lab's known_hosts (so host keys are checked). Read from state.json;
 * a host that is down is still listed (it is part of the fleet, and
 * unreachable is what a run should report for it).
 */
export function labHostSpecs(): Record<string, HostSpec> {
  const state = requireState()
  const specs: Record<string, HostSpec> = {}
  for (const h of state.hosts) {
    specs[h.name] = { address: h.address, user: 'root', identityFile: labFiles.clientKey(), knownHosts: labFiles.knownHosts() }
  }
  return specs
}
