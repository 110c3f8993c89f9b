import { existsSync, readdirSync } from 'node:fs'
import { bridge, labFiles, netnsPrefix, vethPrefix } from './layout.ts'
import { listHostCgroups } from './cgroup.ts'
import { linkExists, listLabNetns, listLabVeths } from './network.ts'
import { mountsUnder } from './mounts.ts'

/**
 * Everything of the lab present on the machine, whether or not state.json
 * knows about it: processes killed without `down` leave their netns, veths,
 * cgroups and mounts behind, and `up` must clean them instead of stacking a
 * second copy beside them.
 */

export interface LabTraces {
  /** Host names with any trace: netns, veth, cgroup, mount, or a directory. */
  hosts: string[]
  bridge: boolean
}

export async function findLabTraces(): Promise<LabTraces> {
  const names = new Set<string>()
  for (const ns of await listLabNetns()) names.add(ns.slice(netnsPrefix.length))
  for (const v of listLabVeths()) names.add(v.slice(vethPrefix.length))
  for (const c of listHostCgroups()) names.add(c)
  const hostsDir = labFiles.hostsDir()
  for (const m of mountsUnder(hostsDir)) {
    const name = m.slice(hostsDir.length + 1).split('/')[0]
    if (name) names.add(name)
  }
  if (existsSync(hostsDir)) for (const d of readdirSync(hostsDir)) names.add(d)
  return { hosts: [...names].sort(), bridge: linkExists(bridge.name) }
}
