import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'

/**
 * CPU affinity for the floor's second figure: the lab's hosts on some CPUs,
 * the controller's processes on the others, as a controller is off its
 * servers in real use. Only this bench's own processes are touched (every
 * thread of the processes in the lab's cgroup, and the commands it starts
 * through `taskset`); each thread's own mask is put back afterwards, and
 * threads started meanwhile get every CPU back.
 */

/** The CPUs, as taskset lists: the last one for the lab, the rest for the controller; undefined with fewer than 2. */
export function splitCpus(count: number): { controller: string; lab: string } | undefined {
  if (count < 2) return undefined
  return { controller: count === 2 ? '0' : `0-${count - 2}`, lab: String(count - 1) }
}

/** Every thread of every process in this cgroup and below. */
export function threadsOf(cgroupDir: string): number[] {
  const pids = new Set<number>()
  const walk = (dir: string): void => {
    for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line))
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name))
  }
  walk(cgroupDir)
  const tids: number[] = []
  for (const pid of pids) {
    try {
      for (const t of readdirSync(`/proc/${pid}/task`)) tids.push(Number(t))
    } catch {
      // gone since
    }
  }
  return tids
}

/** A command line that runs `file args` on these CPUs only (`taskset -c`), or as it is without them. */
export function onCpus(list: string | undefined, file: string, args: readonly string[]): [string, string[]] {
  return list === undefined ? [file, [...args]] : ['taskset', ['-c', list, file, ...args]]
}

/** taskset's "pid 12's current affinity mask: 3" as "3". */
export function parseMask(out: string): string | undefined {
  return /affinity mask:\s*([0-9a-f,]+)\s*$/i.exec(out.trim())?.[1]
}

function taskset(args: readonly string[]): string | undefined {
  try {
    return execFileSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return undefined // the thread has exited: nothing to pin or put back
  }
}

/** Pin the lab's threads to `cpus`; the function returned puts each one's own mask back. */
export function pinLab(cgroupDir: string, list: string): () => void {
  if (!existsSync(cgroupDir)) throw new Error(`no lab cgroup at ${cgroupDir}: is the lab up?`)
  const before = new Map<number, string>()
  for (const tid of threadsOf(cgroupDir)) {
    const mask = parseMask(taskset(['-p', String(tid)]) ?? '')
    if (mask === undefined) continue
    before.set(tid, mask)
    taskset(['-p', '-c', list, String(tid)])
  }
  return () => {
    for (const tid of threadsOf(cgroupDir)) {
      const mask = before.get(tid)
      taskset(mask !== undefined ? ['-p', mask, String(tid)] : ['-p', '-c', `0-${cpus().length - 1}`, String(tid)])
    }
  }
}
