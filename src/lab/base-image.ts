import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { baseCacheRoot, bridge, proxyPort } from './layout.ts'
import { run } from './command.ts'
import { LabError } from './errors.ts'
import { aptMirror } from './mirror.ts'
import { unmountUnder } from './mounts.ts'
import { tool } from './preflight.ts'
import { isAlive } from './processes.ts'
import type { LabSuite } from './suite.ts'

/**
 * The bare Debian root filesystem every host overlays, one per suite (trixie,
 * bookworm): built once per machine with debootstrap and cached. It is built
 * under a temporary name and renamed into place when complete, so an
 * interrupted build is never taken for a cache.
 */

/** What a bare server has: init, sshd, sudo and the basics. No python, no nginx/haproxy/mariadb/nodejs. */
export const basePackages = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'sudo', 'iproute2', 'procps', 'curl', 'ca-certificates'] as const
/** Bump when customize() changes, so machines rebuild instead of booting a stale base. */
const recipeVersion = 1

/** The cache key keeps bookworm's first form, so machines that built it before suites existed keep their image. */
export function baseImageDir(suite: LabSuite): string {
  const key = JSON.stringify({ suite, variant: 'minbase', packages: [...basePackages].sort(), recipe: recipeVersion })
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12)
  return join(baseCacheRoot(), `lab-base-${hash}`)
}

const markerFile = '.muster-lab-base.json'

export function isBaseImageReady(dir: string): boolean {
  return existsSync(join(dir, markerFile))
}

export async function ensureBaseImage(suite: LabSuite, log: (line: string) => void): Promise<{ dir: string; built: boolean }> {
  const dir = baseImageDir(suite)
  if (isBaseImageReady(dir)) return { dir, built: false }
  if (existsSync(dir)) {
    // the final name without the marker is not ours to trust: a build from an older muster, or a hand-made copy
    throw new LabError(`${dir} exists but is not a complete lab base image`, `remove it (rm -rf ${dir}) and run \`lab up\` again`)
  }
  const root = baseCacheRoot()
  mkdirSync(root, { recursive: true })
  await removeAbandonedBuilds(root)
  const mirror = aptMirror()
  const partial = join(root, `.${dir.split('/').pop()}.partial-${process.pid}`)
  const logFile = `${partial}.log`
  log(`building the lab's base image (debootstrap ${suite}, about a minute, once per machine) into ${dir}`)
  const started = Date.now()
  await discardBuild(partial) // one this very PID left behind, on a machine whose PIDs wrapped
  try {
    try {
      await debootstrap(suite, partial, mirror, logFile)
    } catch (err) {
      // a mirror hiccup should not fail a whole CI run: one more try from scratch
      log(`debootstrap failed, trying once more: ${(err as Error).message.split('\n')[0]}`)
      await discardBuild(partial)
      await debootstrap(suite, partial, mirror, logFile)
    }
    customize(partial)
    writeFileSync(join(partial, markerFile), JSON.stringify({ suite, packages: basePackages, mirror, builtAt: new Date().toISOString() }, null, 2) + '\n')
    if (!placeBuild(partial, dir)) {
      // another process (a second lab, a parallel test) finished the same image first: use it
      await discardBuild(partial)
      rmSync(logFile, { force: true })
      log(`base image finished meanwhile by another build: using ${dir}`)
      return { dir, built: false }
    }
  } catch (err) {
    await discardBuild(partial)
    throw err
  }
  rmSync(logFile, { force: true })
  log(`base image built in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return { dir, built: true }
}

async function debootstrap(suite: LabSuite, target: string, mirror: string, logFile: string): Promise<void> {
  const r = await run(tool('debootstrap'), ['--variant=minbase', `--include=${basePackages.join(',')}`, suite, target, mirror], { timeoutMs: 15 * 60_000 })
  writeFileSync(logFile, r.stdout + r.stderr)
  if (r.code !== 0) {
    const tail = (r.stdout + r.stderr).trim().split('\n').slice(-12).join('\n')
    throw new LabError(`debootstrap of ${suite} from ${mirror} failed (exit ${r.code}):\n${tail}`, `the full log is ${logFile}; check that apt works on this machine (apt-get update)`)
  }
}

/** Turn a fresh debootstrap into the lab's bare server template. */
function customize(root: string): void {
  const p = (rel: string): string => join(root, rel)
  // identity is per host: keys, machine-id and hostname are written at boot (host-disk.ts)
  for (const f of readdirSync(p('etc/ssh'))) if (f.startsWith('ssh_host_')) unlinkSync(p(`etc/ssh/${f}`))
  writeFileSync(p('etc/machine-id'), '')
  rmSync(p('var/lib/dbus/machine-id'), { force: true })
  mkdirSync(p('var/lib/dbus'), { recursive: true })
  symlinkSync('/etc/machine-id', p('var/lib/dbus/machine-id'))
  writeFileSync(p('etc/hostname'), 'localhost\n')
  // No consoles in a namespace, and logind needs a seat: masked, or the system never leaves "starting".
  // The apt timers would take the dpkg lock at random times in the middle of a test.
  // Debian 13's systemd-modules-load fails in a namespace (no modules to load, no right to): a host would boot `degraded`.
  const masked = ['getty@tty1.service', 'serial-getty@ttyS0.service', 'console-getty.service', 'systemd-logind.service', 'systemd-modules-load.service', 'apt-daily.timer', 'apt-daily-upgrade.timer']
  for (const unit of masked) {
    rmSync(p(`etc/systemd/system/${unit}`), { force: true })
    symlinkSync('/dev/null', p(`etc/systemd/system/${unit}`))
  }
  rmSync(p('etc/systemd/system/getty.target.wants'), { recursive: true, force: true })
  // the hosts have no route out: apt goes through the lab's proxy on the bridge
  const proxy = `http://${bridge.address}:${proxyPort}`
  writeFileSync(p('etc/apt/apt.conf.d/01muster-lab-proxy'), `Acquire::http::Proxy "${proxy}";\nAcquire::https::Proxy "${proxy}";\n`)
  // no DNS server is reachable; lab hosts find each other in /etc/hosts. An empty resolver fails fast instead of timing out.
  rmSync(p('etc/resolv.conf'), { force: true })
  writeFileSync(p('etc/resolv.conf'), '# muster lab: no DNS server; the lab hosts are listed in /etc/hosts\n')
  // only the key types the lab generates per host (no RSA: slow to generate, nothing needs it)
  writeFileSync(p('etc/ssh/sshd_config.d/muster-lab.conf'), 'HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n')
  for (const f of readdirSync(p('var/cache/apt/archives'))) if (f.endsWith('.deb')) unlinkSync(p(`var/cache/apt/archives/${f}`))
}

/**
 * Move a finished build to the image's name. False when the name was taken
 * meanwhile by a complete image (two labs building the same base at once: the
 * second adopts the first's); anything else there is an error, as before.
 */
export function placeBuild(partial: string, dir: string): boolean {
  try {
    renameSync(partial, dir)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && isBaseImageReady(dir)) return false
    throw err
  }
}

/** Partial builds whose builder is gone: unmount what debootstrap mounted in them, then delete. */
async function removeAbandonedBuilds(root: string): Promise<void> {
  for (const name of readdirSync(root)) {
    const m = /^\.lab-base-[0-9a-f]+\.partial-(\d+)(\.log)?$/.exec(name)
    if (!m || isAlive(Number(m[1]))) continue
    if (m[2]) rmSync(join(root, name), { force: true })
    else await discardBuild(join(root, name))
  }
}

async function discardBuild(partial: string): Promise<void> {
  await unmountUnder(partial)
  rmSync(partial, { recursive: true, force: true })
}

/** The base image's description, for `lab status`. */
export function baseImageInfo(dir: string): { suite?: string; builtAt?: string; mirror?: string } | undefined {
  if (!isBaseImageReady(dir)) return undefined
  return JSON.parse(readFileSync(join(dir, markerFile), 'utf8')) as { suite?: string; builtAt?: string; mirror?: string }
}
