/**
 * One measured controller run, in a process of its own (so its peak RSS is
 * this run's alone): muster's own CLI path (`runCommand`: inventory, playbook,
 * ConnectionPool with known_hosts, engine, JSON reporter) against the
 * simulated hosts, minus process start and the type-check, which do not grow
 * with the fleet. Prints one DriveResult as JSON on stdout.
 *
 *   node --import tsx --conditions=muster-source bench/controller/drive.ts <DriveConfig JSON>
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { runCommand } from '../../src/cli/run-command.ts'
import type { Mode, Recap } from '../../src/engine/events.ts'
import { convergedProblems } from './converged.ts'

export interface DriveConfig {
  playbook: string
  inventory: string
  mode: Mode
  forks: number
  /** Resources per host the playbook declares: a converged host reports exactly this many ok. */
  resources: number
  /** Hosts in the inventory (names the run's CPU profile). */
  hosts: number
  /** `K/N`: run one shard of the inventory (the shard figure). */
  shard?: string
  /** `--workers N`: threads in the controller process (default 1). */
  workers?: number
}

export interface DriveResult {
  hosts: number
  mode: Mode
  forks: number
  wallMs: number
  cpuUserMs: number
  cpuSystemMs: number
  /** VmHWM: the process's peak resident set, start-up included. */
  peakRssMb: number
  /** Resident set just before the run, after modules loaded. */
  baselineRssMb: number
  /** Largest V8 heap seen by a 25 ms sampler during the run. */
  peakHeapMb: number
  exitCode: number
  /** Hosts whose recap is not "converged" (ok = resources, nothing else), with why; empty when all are. */
  notConverged: string[]
  execsPerHost: { min: number; max: number }
  probeBatchesPerHost: { min: number; max: number }
}

function vmHwmMb(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) / 1024 : Number.NaN
}

function spread(xs: number[]): { min: number; max: number } {
  return { min: Math.min(...xs), max: Math.max(...xs) }
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '') as DriveConfig
  let recapLine = ''
  const errors: string[] = []
  const out = (line: string): void => {
    if (line.startsWith('{"type":"run:end"')) recapLine = line
    else if (line.startsWith('{"type":"host:')) errors.push(line)
  }
  let peakHeap = 0
  // v8's heap figure, not process.memoryUsage(): that one reads /proc on every call, ~0.2 s of a 10,000-host run
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)), 25)
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const exitCode = await runCommand(
    cfg.mode,
    {
      playbook: cfg.playbook,
      inventory: cfg.inventory,
      forks: cfg.forks,
      diff: false,
      json: true,
      verbose: 0,
      acceptNewHostKeys: false,
      typecheck: false,
      timeout: 60,
      ...(cfg.shard ? { shard: cfg.shard } : {}),
      ...(cfg.workers ? { workers: cfg.workers } : {}),
    },
    out,
  )
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  if (!recapLine) throw new Error(`no recap in the run's output (exit ${exitCode}); ${errors.slice(0, 3).join('; ')}`)
  const recap = (JSON.parse(recapLine) as { recap: Recap }).recap
  const hosts = Object.values(recap.hosts)
  const notConverged = convergedProblems(recap, cfg.resources)
  if (notConverged.length > 0 && errors.length > 0) notConverged.push(...errors.slice(0, 3))
  const result: DriveResult = {
    hosts: hosts.length,
    mode: cfg.mode,
    forks: cfg.forks,
    wallMs,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    peakRssMb: vmHwmMb(),
    baselineRssMb,
    peakHeapMb: peakHeap / 2 ** 20,
    exitCode,
    notConverged: notConverged.slice(0, 10),
    execsPerHost: spread(hosts.map((h) => h.stats.execs)),
    probeBatchesPerHost: spread(hosts.map((h) => h.probeBatches)),
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`drive: ${(e as Error).stack ?? String(e)}\n`)
    process.exit(1)
  },
)
