import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cgroupParent, labDir, netnsName } from './layout.ts'
import { controllerEnv, run, type CommandResult } from './command.ts'
import { LabError } from './errors.ts'
import { tool } from './preflight.ts'
import { netnsPath } from './network.ts'
import { cgroupOf, childrenOf, isAlive, nsInodeOfPath, nsInodeOfProcess, parentPid, sleep } from './processes.ts'

/**
 * A host's processes: its PID 1 (systemd) runs in the host's network
 * namespace and its own mount, PID, UTS, IPC and cgroup namespaces, with the
 * host's disk pivoted in as its root. The controller knows it by the PID of that init;
 * `kill -9` of it ends every process of the host at once.
 */

/**
 * Runs as PID 1 of the new namespaces, then becomes systemd. Mounts made here
 * live in the host's own mount namespace and vanish with it. /dev is a small
 * tmpfs (not the machine's), /sys is read-only, and /proc/sys is read-only
 * but for net.*: what a host changes stays in the host.
 */
const bootScript = `set -e
R="$1"
mount -t tmpfs -o mode=755,nosuid,size=65536k tmpfs "$R/dev"
for d in null zero full random urandom tty; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
: > "$R/dev/console"
mount --bind /dev/null "$R/dev/console"
mount -t proc proc "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys"
mount -o remount,bind,ro "$R/proc/sys"
mount --bind "$R/proc/sys/net" "$R/proc/sys/net"
mount -o remount,bind,rw "$R/proc/sys/net"
if [ -e "$R/proc/sysrq-trigger" ]; then mount --bind /dev/null "$R/proc/sysrq-trigger"; fi
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$R/sys/fs/cgroup"
# pivot_root, not chroot: a chrooted process may not create user namespaces, and
# units with PrivateUsers= (Debian's prometheus.service) then fail with 217/USER
cd "$R"
pivot_root . .
umount -l .
exec env -i container=muster-lab PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd --system
`

/**
 * Enters the host's cgroup first (so everything after it, namespaces and
 * all, is inside it), then the network namespace, then unshare. --kill-child:
 * if unshare dies, its child (the host's init) gets SIGKILL too.
 */
const launchScript = `if [ -n "$1" ]; then echo $$ > "$1/cgroup.procs"; fi
exec "$5" netns exec "$2" "$6" --mount --pid --uts --ipc \${1:+--cgroup} --fork --kill-child --propagation private -- /bin/sh "$4" "$3"
`

export interface Launched {
  pid: number
  launcherPid: number
}

/** The boot script lives in a file so `ps` shows `unshare ... /bin/sh .../boot-host.sh ROOT`, not the whole script. */
function bootScriptFile(): string {
  const file = join(labDir(), 'boot-host.sh')
  if (!existsSync(file) || readFileSync(file, 'utf8') !== bootScript) {
    writeFileSync(`${file}.tmp`, bootScript, { mode: 0o755 })
    renameSync(`${file}.tmp`, file)
  }
  return file
}

export async function launchHost(host: string, root: string, cgroup: string | undefined, bootLog: string): Promise<Launched> {
  const out = openSync(bootLog, 'w')
  const child = spawn('/bin/sh', ['-c', launchScript, 'sh', cgroup ?? '', netnsName(host), root, bootScriptFile(), tool('ip'), tool('unshare')], {
    detached: true,
    stdio: ['ignore', out, out],
    env: controllerEnv(),
  })
  closeSync(out)
  child.unref()
  if (!child.pid) throw new LabError('could not start unshare', `see ${bootLog}`, host)
  const init = await findInit(child.pid, 5000)
  if (!init) throw new LabError(`its init did not start${bootTail(bootLog)}`, `see ${bootLog}`, host)
  return { pid: init, launcherPid: parentPid(init) ?? child.pid }
}

/** The first process below `ancestor` that lives in a PID namespace other than ours: the host's PID 1. */
async function findInit(ancestor: number, timeoutMs: number): Promise<number | undefined> {
  const ours = nsInodeOfProcess(process.pid, 'pid')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const queue = [ancestor]
    while (queue.length > 0) {
      const p = queue.shift()!
      const ns = nsInodeOfProcess(p, 'pid')
      if (p !== ancestor && ns !== undefined && ns !== ours) return p
      queue.push(...childrenOf(p))
    }
    if (!isAlive(ancestor) && childrenOf(ancestor).length === 0) return undefined
    await sleep(10)
  }
  return undefined
}

export function bootTail(bootLog: string): string {
  if (!existsSync(bootLog)) return ''
  const tail = readFileSync(bootLog, 'utf8').trim().split('\n').slice(-8).join('\n')
  return tail ? `:\n${tail}` : ''
}

/** Whether a live PID is this host's (and not a reused PID): by its network namespace or its cgroup. */
export function belongsToHost(pid: number, host: string): boolean {
  if (!isAlive(pid)) return false
  const ns = nsInodeOfPath(netnsPath(host))
  if (ns !== undefined && nsInodeOfProcess(pid, 'net') === ns) return true
  const cg = cgroupOf(pid)
  return cg !== undefined && (cg === `/${cgroupParent}/${host}` || cg.startsWith(`/${cgroupParent}/${host}/`))
}

export interface HostExecOptions {
  input?: string
  timeoutMs?: number
}

/**
 * Run a command inside a host, entering its namespaces and root directly
 * (no sshd needed, so it also works to inspect a host whose sshd is broken).
 */
export function execInHost(pid: number, command: string, opts: HostExecOptions = {}, host?: string): Promise<CommandResult> {
  const args = ['-t', String(pid), '-m', '-u', '-i', '-n', '-p', ...(existsSync('/proc/self/ns/cgroup') ? ['-C'] : []), '-r', '-w', '--']
  const env = ['/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', 'USER=root', 'LOGNAME=root']
  return run(tool('nsenter'), [...args, ...env, '/bin/sh', '-c', command], { input: opts.input, timeoutMs: opts.timeoutMs, host })
}

/** `systemctl is-system-running` inside the host; with `wait`, until boot has finished. */
export async function systemState(pid: number, wait: boolean, timeoutMs = 60_000): Promise<string> {
  const r = await execInHost(pid, wait ? 'systemctl is-system-running --wait' : 'systemctl is-system-running', { timeoutMs })
  return r.stdout.trim() || 'unknown'
}

export async function failedUnits(pid: number): Promise<string[]> {
  const r = await execInHost(pid, 'systemctl list-units --failed --plain --no-legend --no-pager', { timeoutMs: 10_000 })
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean)
}
