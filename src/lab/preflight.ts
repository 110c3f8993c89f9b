import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { controllerEnv, run, runOk } from './command.ts'
import { LabError, LabUnavailableError } from './errors.ts'

/**
 * Whether this machine can run the lab, and the tools it needs. The checks
 * that cannot be fixed from here (OS, privileges, kernel features) refuse
 * with what to do; missing tools are installed with apt-get.
 */

export type LabSupport = { ok: true } | { ok: false; reason: string; hint: string }

/** Cheap, side-effect-free: used by tests to decide whether to skip lab suites. */
export function labSupport(): LabSupport {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `this is ${process.platform}, and the lab needs Linux network namespaces and overlayfs`, hint: 'run muster lab on a Linux machine or VM (Debian 12 is what it is built on)' }
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'it needs root to create network namespaces, mounts and links', hint: 'run it as root, e.g. `sudo muster lab up`' }
  }
  for (const ns of ['net', 'pid', 'mnt', 'uts', 'ipc']) {
    if (!existsSync(`/proc/self/ns/${ns}`)) {
      return { ok: false, reason: `the kernel has no ${ns} namespaces (/proc/self/ns/${ns} is missing)`, hint: 'use a kernel built with namespaces (CONFIG_NAMESPACES and friends), or a full VM instead of a restricted container' }
    }
  }
  if (!hasOverlayFs()) {
    return { ok: false, reason: 'the kernel has no overlay filesystem', hint: 'load it with `modprobe overlay` (or use a kernel with CONFIG_OVERLAY_FS)' }
  }
  return { ok: true }
}

function hasOverlayFs(): boolean {
  try {
    return /\boverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))
  } catch {
    return false // no /proc/filesystems: not a Linux we can use
  }
}

/** Throw a LabUnavailableError unless the lab can run here. */
export async function assertLabSupport(): Promise<void> {
  let s = labSupport()
  if (!s.ok && /overlay/.test(s.reason) && findTool('modprobe')) {
    // overlay is usually a module that is simply not loaded yet
    await run(findTool('modprobe')!, ['overlay'])
    s = labSupport()
  }
  if (!s.ok) throw new LabUnavailableError(s.reason, s.hint)
  const probe = await run(findTool('unshare') ?? 'unshare', ['--pid', '--mount', '--uts', '--ipc', '--fork', '/bin/true'])
  if (probe.code !== 0) {
    throw new LabUnavailableError(
      `creating PID and mount namespaces failed (unshare: ${probe.stderr.trim() || `exit ${probe.code}`})`,
      'the lab needs real root with CAP_SYS_ADMIN: run it on a VM or a privileged container',
    )
  }
}

/** Debian package that provides each tool the lab runs. */
export const labToolPackages: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  ss: 'iproute2',
  debootstrap: 'debootstrap',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  pivot_root: 'util-linux',
}

export function findTool(name: string): string | undefined {
  const path = controllerEnv().PATH ?? ''
  for (const dir of path.split(':')) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      continue // not in this directory
    }
  }
  return undefined
}

/** Install whatever tools are missing (a fresh CI machine has none of them). */
export async function ensureTools(log: (line: string) => void): Promise<void> {
  const missing = Object.keys(labToolPackages).filter((t) => !findTool(t))
  if (missing.length === 0) return
  const packages = [...new Set(missing.map((t) => labToolPackages[t]))]
  const aptGet = findTool('apt-get')
  if (!aptGet) {
    throw new LabError(`missing tools: ${missing.join(', ')}`, `install the packages ${packages.join(' ')} with your package manager, then run this again`)
  }
  log(`installing ${packages.join(' ')} (missing: ${missing.join(', ')})`)
  const env = controllerEnv({ DEBIAN_FRONTEND: 'noninteractive' })
  await runOk(aptGet, ['update', '-qq'], { env, timeoutMs: 300_000 })
  await runOk(aptGet, ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, timeoutMs: 600_000 })
  const still = missing.filter((t) => !findTool(t))
  if (still.length > 0) throw new LabError(`still missing after apt-get install: ${still.join(', ')}`)
}

/** Absolute path of a tool, after ensureTools. */
export function tool(name: keyof typeof labToolPackages | 'apt-get' | 'sysctl' | 'modprobe'): string {
  const p = findTool(name)
  if (!p) throw new LabError(`\`${name}\` is not installed`, 'run `muster lab up`, which installs the tools it needs')
  return p
}
