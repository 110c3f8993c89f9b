import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { baseImageDir, isBaseImageReady } from './base-image.ts'
import { belongsToHost, systemState } from './host-process.ts'
import { isMountPoint } from './mounts.ts'
import { sshAnswers } from './port-probe.ts'
import { isLabProxy } from './proxy.ts'
import { readState } from './state.ts'
import { labSupport } from './preflight.ts'
import { chooseLabSuite, type LabSuite } from './suite.ts'

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
  /** What the host's own /etc/os-release says, e.g. `Debian GNU/Linux 13 (trixie)`; absent when its disk is not mounted */
  release?: string
  /** systemd's own word (`systemctl is-system-running`), when the host is alive */
  system?: string
  diskMounted: boolean
}

export interface LabStatus {
  up: boolean
  /** Why the lab cannot run here, when it cannot. */
  unsupported?: string
  /** The suite the lab runs (when up), or the one `lab up` would boot */
  suite: LabSuite
  base: { dir: string; ready: boolean }
  proxy: { pid: number; alive: boolean } | null
  hosts: LabHostStatus[]
}

/** What the lab looks like now: read-only, changes nothing. */
export async function labStatus(): Promise<LabStatus> {
  const support = labSupport()
  const state = support.ok ? readState() : undefined
  const suite = state ? (state.suite ?? 'bookworm') : chooseLabSuite(undefined, undefined)
  const dir = state?.base ?? baseImageDir(suite)
  const base = { dir, ready: isBaseImageReady(dir) }
  if (!support.ok) return { up: false, unsupported: support.reason, suite, base, proxy: null, hosts: [] }
  if (!state) return { up: false, suite, base, proxy: null, hosts: [] }
  const hosts = await Promise.all(state.hosts.map(async (h): Promise<LabHostStatus> => {
    const alive = h.pid !== null && belongsToHost(h.pid, h.name)
    const diskMounted = isMountPoint(h.overlay.root)
    const release = diskMounted ? osRelease(h.overlay.root) : undefined
    const common = { name: h.name, address: h.address, netns: h.netns, pid: h.pid, diskMounted, ...(release ? { release } : {}) }
    if (!alive) return { ...common, condition: 'down' }
    const system = await systemState(h.pid!, false, 10_000)
    if (!(await sshAnswers(h.address, 1000))) return { ...common, condition: 'no-ssh', system }
    const condition: HostCondition = system === 'running' ? 'running' : system === 'degraded' ? 'degraded' : 'starting'
    return { ...common, condition, system }
  }))
  const proxy = state.proxy ? { pid: state.proxy.pid, alive: isLabProxy(state.proxy.pid) } : null
  return { up: true, suite, base, proxy, hosts }
}

/** PRETTY_NAME from a root filesystem's os-release: the host's word for its release, not the lab's. */
export function osRelease(root: string): string | undefined {
  for (const rel of ['etc/os-release', 'usr/lib/os-release']) {
    const file = join(root, rel)
    if (!existsSync(file)) continue
    const m = /^PRETTY_NAME=(?:"([^"]*)"|(\S*))$/m.exec(readFileSync(file, 'utf8'))
    if (m) return m[1] ?? m[2]
  }
  return undefined
}
