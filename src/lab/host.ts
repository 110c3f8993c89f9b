import { rm } from 'node:fs/promises'
import { hostPaths, netnsName, vethName } from './layout.ts'
import { LabError } from './errors.ts'
import { createHostCgroup, destroyCgroup, hostCgroupDir } from './cgroup.ts'
import { mountDisk, unmountDisk, wipeDisk, writeIdentity, type FleetEntry } from './host-disk.ts'
import { belongsToHost, bootTail, failedUnits, launchHost, systemState } from './host-process.ts'
import { createHostNetwork, netnsPids, removeHostNetwork, listLabNetns } from './network.ts'
import { sshAnswers } from './port-probe.ts'
import { isAlive, killPid, sleep, waitGone } from './processes.ts'
import { isMountPoint, mountsUnder } from './mounts.ts'
import type { HostIdentity } from './ssh-trust.ts'
import type { LabHostState } from './state.ts'

/** One host from nothing to a booting systemd, and back to nothing. */

export interface BootRequest {
  name: string
  address: string
  base: string
  identity: HostIdentity
  clientPublicKey: string
  fleet: readonly FleetEntry[]
}

/** Disk, identity, network, cgroup, then init. Returns as soon as the host's PID 1 exists. */
export async function startHost(req: BootRequest): Promise<LabHostState> {
  const paths = hostPaths(req.name)
  await mountDisk(req.base, paths, req.name)
  writeIdentity(paths.root, req.name, req.identity, req.clientPublicKey, req.fleet)
  await createHostNetwork(req.name, req.address)
  const cgroup = createHostCgroup(req.name)
  const started = Date.now()
  const { pid, launcherPid } = await launchHost(req.name, paths.root, cgroup, paths.bootLog)
  return {
    name: req.name,
    address: req.address,
    netns: netnsName(req.name),
    veth: vethName(req.name),
    pid,
    launcherPid,
    cgroup: cgroup ?? null,
    overlay: { lower: req.base, upper: paths.upper, work: paths.work, root: paths.root },
    bootLog: paths.bootLog,
    bootedAt: new Date(started).toISOString(),
    bootMs: null,
  }
}

export interface Readiness {
  /** From launch until sshd answered. */
  bootMs: number
  /** `systemctl is-system-running` once boot finished: running, or degraded (see failed). */
  system: string
  failed: string[]
}

/** Wait until sshd answers and systemd has finished booting. */
export async function waitHostReady(h: LabHostState, timeoutMs: number): Promise<Readiness> {
  const started = h.bootedAt ? Date.parse(h.bootedAt) : Date.now()
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!isAlive(h.pid)) throw new LabError(`its init (pid ${h.pid}) died while booting${bootTail(h.bootLog)}`, `see ${h.bootLog}`, h.name)
    if (await sshAnswers(h.address, 500)) break
    if (Date.now() > deadline) throw new LabError(`sshd did not answer on ${h.address}:22 within ${Math.round(timeoutMs / 1000)} s`, `look inside with \`muster lab ssh ${h.name}\` or nsenter -t ${h.pid} -a journalctl -b`, h.name)
    await sleep(50)
  }
  const bootMs = Date.now() - started
  const system = await systemState(h.pid!, true, Math.max(5000, deadline - Date.now()))
  const failed = system === 'running' ? [] : await failedUnits(h.pid!)
  return { bootMs, system, failed }
}

/**
 * End every process of the host and take down its network and disk mount;
 * its disk's contents (upper dir) stay. Works from a state record, from
 * nothing but the name (a lost state.json), or both: processes are found by
 * recorded PID (checked to still be this host's), by the host's netns and
 * by its cgroup.
 */
export async function stopHost(name: string, recorded?: LabHostState): Promise<void> {
  const pids = new Set<number>()
  for (const p of [recorded?.pid, recorded?.launcherPid]) if (p && belongsToHost(p, name)) pids.add(p)
  if ((await listLabNetns()).includes(netnsName(name))) for (const p of await netnsPids(netnsName(name))) pids.add(p)
  // the init first: killing a PID namespace's init kills everything in it
  if (recorded?.pid && pids.has(recorded.pid)) killPid(recorded.pid)
  for (const p of pids) killPid(p)
  const cg = hostCgroupDir(name)
  if (cg) await destroyCgroup(cg)
  const left = await waitGone([...pids], 5000)
  if (left.length > 0) throw new LabError(`processes ${left.join(' ')} did not die after kill -9`, 'they may be stuck in the kernel (state D); see ps -o pid,stat,cmd -p ' + left.join(','), name)
  await unmountDisk(hostPaths(name))
  await removeHostNetwork(name)
}

/** Stop the host and delete its directory (disk included). */
export async function destroyHost(name: string, recorded?: LabHostState): Promise<void> {
  await stopHost(name, recorded)
  const paths = hostPaths(name)
  // never delete through a mount: rm would walk into whatever is still mounted there
  if (mountsUnder(paths.dir).length > 0) throw new LabError(`${paths.dir} still has mounts`, 'see /proc/mounts', name)
  // asynchronously, so the hosts' disks (hundreds of MB each once provisioned) are deleted side by side
  await rm(paths.dir, { recursive: true, force: true })
}

/** Stop, wipe the disk: the next start is a bare host. */
export async function wipeHost(name: string, recorded?: LabHostState): Promise<void> {
  await stopHost(name, recorded)
  const paths = hostPaths(name)
  if (isMountPoint(paths.root)) throw new LabError(`${paths.root} is still mounted`, 'see /proc/mounts', name)
  wipeDisk(paths)
}

/** Alive, this host's, its disk mounted and its netns present: worth keeping as it is. */
export async function hostIsUp(h: LabHostState): Promise<boolean> {
  return (
    h.pid !== null &&
    belongsToHost(h.pid, h.name) &&
    isMountPoint(h.overlay.root) &&
    (await listLabNetns()).includes(h.netns) &&
    (await sshAnswers(h.address, 1000))
  )
}
