import { baseImageDir, isBaseImageReady } from './base-image.ts'
import { belongsToHost, systemState } from './host-process.ts'
import { isMountPoint } from './mounts.ts'
import { sshAnswers } from './port-probe.ts'
import { isLabProxy } from './proxy.ts'
import { readState } from './state.ts'
import { labSupport } from './preflight.ts'

export type HostCondition =
  /** systemd finished booting, every unit fine */
  | 'running'
  /** booted, but a unit failed */
  | 'degraded'
  /** still booting */
  | 'starting'
  /** its init is alive but sshd does not answer */
  | 'no-ssh'
  /** its init is gone: killed, crashed or powered off; `lab up` brings it back */
  | 'down'

export interface LabHostStatus {
  name: string
  address: string
  netns: string
  pid: number | null
  condition: HostCondition
  /** systemd's own word (`systemctl is-system-running`), when the host is alive */
  system?: string
  diskMounted: boolean
}

export interface LabStatus {
  up: boolean
  /** Why the lab cannot run here, when it cannot. */
  unsupported?: string
  base: { dir: string; ready: boolean }
  proxy: { pid: number; alive: boolean } | null
  hosts: LabHostStatus[]
}

/** What the lab looks like now: read-only, changes nothing. */
export async function labStatus(): Promise<LabStatus> {
  const support = labSupport()
  const base = { dir: baseImageDir(), ready: isBaseImageReady() }
  if (!support.ok) return { up: false, unsupported: support.reason, base, proxy: null, hosts: [] }
  const state = readState()
  if (!state) return { up: false, base, proxy: null, hosts: [] }
  const hosts = await Promise.all(state.hosts.map(async (h): Promise<LabHostStatus> => {
    const alive = h.pid !== null && belongsToHost(h.pid, h.name)
    const common = { name: h.name, address: h.address, netns: h.netns, pid: h.pid, diskMounted: isMountPoint(h.overlay.root) }
    if (!alive) return { ...common, condition: 'down' }
    const system = await systemState(h.pid!, false, 10_000)
    if (!(await sshAnswers(h.address, 1000))) return { ...common, condition: 'no-ssh', system }
    const condition: HostCondition = system === 'running' ? 'running' : system === 'degraded' ? 'degraded' : 'starting'
    return { ...common, condition, system }
  }))
  const proxy = state.proxy ? { pid: state.proxy.pid, alive: isLabProxy(state.proxy.pid) } : null
  return { up: true, base, proxy, hosts }
}
