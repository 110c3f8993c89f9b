import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs'

/**
 * Processes the lab started, looked at through /proc. The lab ends processes
 * only by PIDs it recorded or found inside its own namespaces, never by name.
 */

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined // the process is gone (or never was): callers treat that as "not alive"
  }
}

/** State letter from /proc/PID/stat (R, S, D, Z, ...), or undefined when there is no such process. */
export function processState(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`)
  if (!stat) return undefined
  // comm may contain spaces and parentheses: the state follows the last ')'
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
}

/** Alive and not a zombie: a zombie holds no port, file or namespace. */
export function isAlive(pid: number | null | undefined): pid is number {
  if (!pid || pid <= 0) return false
  const s = processState(pid)
  return s !== undefined && s !== 'Z' && s !== 'X'
}

export function parentPid(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`)
  if (!stat) return undefined
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[1])
}

/** When the process started (clock ticks since boot): with the PID, it names one process even if the PID is reused later. */
export function startTime(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`)
  if (!stat) return undefined
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
}

export function cmdline(pid: number): string[] {
  return (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0').filter((s) => s !== '')
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  const direct = readProc(`/proc/${pid}/task/${pid}/children`)
  if (direct !== undefined) return direct.split(/\s+/).filter(Boolean).map(Number)
  // kernels without CONFIG_PROC_CHILDREN: scan every process's parent
  return allPids().filter((p) => parentPid(p) === pid)
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
}

/** The inode that identifies a namespace, from a process (`/proc/PID/ns/net`) or a bind mount (`/run/netns/X`). */
export function nsInodeOfProcess(pid: number, kind: 'net' | 'pid' | 'mnt'): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined // gone, or a kernel thread
  }
}

export function nsInodeOfPath(path: string): number | undefined {
  try {
    return statSync(path).ino
  } catch {
    return undefined // no such namespace file
  }
}

/** The process's cgroup v2 path as the controller sees it ("0::/muster-lab/web-01/init.scope"). */
export function cgroupOf(pid: number): string | undefined {
  const text = readProc(`/proc/${pid}/cgroup`)
  const line = text?.split('\n').find((l) => l.startsWith('0::'))
  return line?.slice(3)
}

/** SIGKILL by PID; a process that is already gone is fine. */
export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Wait until none of `pids` is alive; returns those still alive at the deadline. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  let alive = pids.filter(isAlive)
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(25)
    alive = alive.filter(isAlive)
  }
  return alive
}
