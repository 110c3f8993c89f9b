import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cgroupParent } from './layout.ts'
import { listMounts } from './mounts.ts'
import { killPid, sleep } from './processes.ts'

/**
 * One cgroup v2 directory per host, entered before the host's namespaces are
 * made. The host gets it as its cgroup namespace root, so each host's systemd
 * manages its own subtree (without it, every host's systemd would share the
 * machine's root cgroup and their `ssh.service` cgroups would be one and the
 * same). It is also a net under teardown: every process of a host is in it.
 */

/** Where the machine's cgroup2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid machines). */
export function cgroup2Mount(): string | undefined {
  const found = listMounts().filter((m) => m.fsType === 'cgroup2' && m.root === '/')
  return found.sort((a, b) => a.mountPoint.length - b.mountPoint.length)[0]?.mountPoint
}

export function labCgroupDir(): string | undefined {
  const root = cgroup2Mount()
  return root ? join(root, cgroupParent) : undefined
}

export function hostCgroupDir(host: string): string | undefined {
  const parent = labCgroupDir()
  return parent ? join(parent, host) : undefined
}

/** Create the host's cgroup; undefined when the machine has no cgroup2 tree (the host then runs without a cgroup namespace). */
export function createHostCgroup(host: string): string | undefined {
  const dir = hostCgroupDir(host)
  if (!dir) return undefined
  mkdirSync(dir, { recursive: true })
  return dir
}

/** Names of hosts that have a cgroup, left over or current. */
export function listHostCgroups(): string[] {
  const parent = labCgroupDir()
  if (!parent || !existsSync(parent)) return []
  return readdirSync(parent, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
}

function procsIn(dir: string): number[] {
  const pids: number[] = []
  const walk = (d: string): void => {
    const text = existsSync(join(d, 'cgroup.procs')) ? readFileSync(join(d, 'cgroup.procs'), 'utf8') : ''
    for (const s of text.split('\n')) if (s) pids.push(Number(s))
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name))
  }
  if (existsSync(dir)) walk(dir)
  return pids
}

/**
 * Kill every process in the host's cgroup tree and remove the tree. On a busy
 * machine a killed MariaDB can take well over 5 s to be reaped, and the kernel
 * may refuse to remove a cgroup (EBUSY) for a moment after its last process
 * left: both are waited out, within the timeout.
 */
export async function destroyCgroup(dir: string, timeoutMs = 30_000): Promise<void> {
  if (!existsSync(dir)) return
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pids = procsIn(dir)
    if (pids.length === 0) break
    if (existsSync(join(dir, 'cgroup.kill'))) writeFileSync(join(dir, 'cgroup.kill'), '1')
    else pids.forEach(killPid)
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(' ')} in ${dir} would not die`)
    await sleep(25)
  }
  for (;;) {
    try {
      removeTree(dir)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > deadline) throw err
      await sleep(100)
    }
  }
}

function removeTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name))
  rmdirSync(dir)
}

/** Remove the lab's parent cgroup once no host is left in it. */
export function removeLabCgroupIfEmpty(): void {
  const parent = labCgroupDir()
  if (parent && existsSync(parent) && listHostCgroups().length === 0) rmdirSync(parent)
}
