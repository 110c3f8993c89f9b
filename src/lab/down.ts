import { existsSync, rmSync } from 'node:fs'
import pLimit from 'p-limit'
import { labFiles } from './layout.ts'
import { labSupport, findTool } from './preflight.ts'
import { LabUnavailableError, LabError } from './errors.ts'
import { destroyHost } from './host.ts'
import { findLabTraces } from './leftovers.ts'
import { removeBridge } from './network.ts'
import { stopProxy } from './proxy.ts'
import { removeLabCgroupIfEmpty } from './cgroup.ts'
import { mountsUnder } from './mounts.ts'
import { readState, removeState, type LabState } from './state.ts'
import { withLabLock } from './lock.ts'
import { quiet, type LabLog } from './log.ts'

export interface LabDownResult {
  /** Hosts whose processes, mounts, links or disks were removed. */
  removed: string[]
  ms: number
}

/**
 * Remove the whole lab: every host's processes (kill -9 of each PID
 * namespace's init), mounts, netns and veth, the bridge, the proxy and the
 * hosts' disks. Works from state.json and from what is found on the machine,
 * so it also cleans after a failed or killed `up`. Nothing there: a no-op.
 * The base image cache, the lab's client key and the hosts' identities stay.
 */
export function labDown(opts: { log?: LabLog } = {}): Promise<LabDownResult> {
  const support = labSupport()
  if (!support.ok) return Promise.reject(new LabUnavailableError(support.reason, support.hint))
  // without `ip` on the machine, no lab can have run here
  if (!findTool('ip')) return Promise.resolve({ removed: [], ms: 0 })
  return withLabLock('take the lab down', () => down(opts.log ?? quiet))
}

async function down(log: LabLog): Promise<LabDownResult> {
  const t0 = Date.now()
  let state: LabState | undefined
  try {
    state = readState()
  } catch (err) {
    log(`ignoring ${(err as Error).message.split('\n')[0]}`) // what it described is found by the sweep below
  }
  const traces = await findLabTraces()
  const recorded = new Map(state?.hosts.map((h) => [h.name, h]))
  const names = [...new Set([...recorded.keys(), ...traces.hosts])]
  const limit = pLimit(8)
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        log(`removing ${name}`)
        await destroyHost(name, recorded.get(name))
      }),
    ),
  )
  await stopProxy(state?.proxy ?? null)
  await removeBridge()
  removeLabCgroupIfEmpty()
  const hostsDir = labFiles.hostsDir()
  if (mountsUnder(hostsDir).length > 0) throw new LabError(`${hostsDir} still has mounts`, 'see /proc/mounts')
  if (existsSync(hostsDir)) rmSync(hostsDir, { recursive: true, force: true })
  removeState()
  rmSync(labFiles.knownHosts(), { force: true })
  return { removed: names, ms: Date.now() - t0 }
}
