/**
 * muster's own overhead on a converged run, against a floor: a minimal Node +
 * ssh2 client (floor/client.mjs) sending muster's own probe scripts and reads
 * to the same hosts. The scripts are recorded from a real `muster check` of the
 * converged fleet (MUSTER_RECORD_PROBES, check mode only); then muster's check
 * and the floor run alternately, each a new process timed from spawn to exit,
 * and each pair gives a ratio (muster / floor). The median of the paired ratios
 * is the figure: pairs taken back to back share the machine's load, so a busy
 * machine shifts both sides of a pair alike.
 *
 * A second figure, with `isolate`: the same pairs with the lab's hosts pinned
 * to one CPU and both clients to the others (lib/affinity.ts). On a small
 * machine the hosts and the controller share the cores, so every millisecond
 * of CPU the controller spends is taken from the hosts' probes; a controller
 * is off its servers in real use. The hosts then have fewer cores, and their
 * probes take longer for both clients alike.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadInventory } from '../src/inventory/load.ts'
import { musterArgs, musterEnv, repoRoot, runMuster } from './tools/muster.ts'
import { runCpu, runTimed } from './lib/proc.ts'
import { summarize, type Summary } from './lib/stats.ts'
import { onCpus, pinLab, splitCpus } from './lib/affinity.ts'
import { labCgroupDir } from '../src/lab/cgroup.ts'
import { secs, num } from './lib/table.ts'

export interface FloorResult {
  hosts: string[]
  /** Probe scripts and reads per host that muster sent and the floor sends. */
  opsPerHost: Record<string, number>
  musterMs: Summary
  floorMs: Summary
  /** muster / floor, pair by pair. */
  ratio: Summary
  pairs: { musterMs: number; floorMs: number }[]
  /**
   * CPU time (user + system) of each client's whole run, from separate alternating runs on shared cores: on a
   * machine the hosts share, every millisecond of it is taken from their probes (bench/HISTORY.md, 2026-12-06).
   */
  cpu?: { runs: number; musterMs: Summary; floorMs: Summary }
  /** The same pairs with the hosts and the controller on CPUs of their own (FloorOptions.isolate). */
  isolated?: { cpus: { controller: string; lab: string }; musterMs: Summary; floorMs: Summary; ratio: Summary; pairs: { musterMs: number; floorMs: number }[] }
}

export interface FloorOptions {
  playbook: string
  inventory: string
  stateDir: string
  pairs: number
  log: (line: string) => void
  /** Also measure with the lab's processes (this cgroup) on `cpus.lab` and both clients on `cpus.controller`. */
  isolate?: { cgroupDir: string; cpus: { controller: string; lab: string } }
}

export async function runFloor(o: FloorOptions): Promise<FloorResult> {
  const work = mkdtempSync(join(tmpdir(), 'muster-bench-floor-'))
  try {
    // 1. what muster's converged check sends, host by host
    const recordFile = join(work, 'probes.jsonl')
    writeFileSync(recordFile, '', { mode: 0o600 })
    const recorded = await runTimed(process.execPath, [join(repoRoot, 'bin/muster.js'), 'check', o.playbook, '-i', o.inventory, '--json'], {
      cwd: repoRoot,
      env: { ...process.env, MUSTER_STATE_DIR: o.stateDir, CI: '1', MUSTER_RECORD_PROBES: recordFile },
      timeoutMs: 10 * 60_000,
    })
    if (recorded.code !== 0) throw new Error(`floor: the recording check did not find a converged fleet (exit ${recorded.code}): ${recorded.stderr.slice(-500)}`)
    const ops: Record<string, unknown[]> = {}
    for (const line of readFileSync(recordFile, 'utf8').split('\n')) {
      if (!line) continue
      const { host, ...op } = JSON.parse(line) as { host: string }
      ;(ops[host] ??= []).push(op)
    }
    const inventory = await loadInventory(o.inventory)
    const hosts = Object.keys(ops).map((name) => {
      const h = inventory.hosts.get(name)!
      if (!h.ssh.identityFile || !h.ssh.knownHosts) throw new Error(`floor: ${name} needs ssh.identityFile and ssh.knownHosts in the inventory`)
      return { name, address: h.address, port: h.port, user: h.user, keyFile: h.ssh.identityFile, knownHosts: h.ssh.knownHosts }
    })
    const planFile = join(work, 'plan.json')
    writeFileSync(planFile, JSON.stringify({ hosts, ops }), { mode: 0o600 })
    const client = join(repoRoot, 'bench/floor/client.mjs')

    // 2. alternating pairs
    const runPairs = async (label: string, cpus?: string): Promise<FloorResult['pairs']> => {
      const pairs: FloorResult['pairs'] = []
      for (let i = 0; i < o.pairs; i++) {
        const m = await runMuster({ mode: 'check', playbook: o.playbook, inventory: o.inventory, stateDir: o.stateDir, ...(cpus !== undefined ? { cpus } : {}) })
        if (m.code !== 0) throw new Error(`floor: muster's check ${i + 1} exited ${m.code}: ${m.problems.join('; ')}`)
        const f = await runTimed(...onCpus(cpus, process.execPath, [client, planFile]), { cwd: repoRoot, timeoutMs: 5 * 60_000 })
        if (f.code !== 0) throw new Error(`floor: the floor client failed (exit ${f.code}): ${f.stderr.slice(-500)}`)
        pairs.push({ musterMs: m.wallMs, floorMs: f.wallMs })
        o.log(`floor${label}: pair ${i + 1}/${o.pairs}: muster check ${secs(m.wallMs)} s, floor ${secs(f.wallMs)} s, ratio ${num(m.wallMs / f.wallMs, 2)}`)
      }
      return pairs
    }
    const pairs = await runPairs('')
    // 3. the CPU each uses, in runs of their own (the timed runs stay exactly as they were)
    const cpuRuns = Math.min(o.pairs, 6)
    const cpu: { muster: number[]; floor: number[] } = { muster: [], floor: [] }
    for (let i = 0; i < cpuRuns; i++) {
      const check = { mode: 'check', playbook: o.playbook, inventory: o.inventory, stateDir: o.stateDir } as const
      const m = await runCpu(process.execPath, musterArgs(check), { cwd: repoRoot, env: musterEnv(o.stateDir), timeoutMs: 5 * 60_000 })
      const f = await runCpu(process.execPath, [client, planFile], { cwd: repoRoot, timeoutMs: 5 * 60_000 })
      if (m.code !== 0 || f.code !== 0) throw new Error(`floor: a CPU run failed (muster exit ${m.code}, floor exit ${f.code})`)
      cpu.muster.push(m.cpuMs)
      cpu.floor.push(f.cpuMs)
    }
    o.log(`floor: CPU per run, ${cpuRuns} each: muster ${cpu.muster.join(', ')} ms; floor ${cpu.floor.join(', ')} ms`)
    let isolated: FloorResult['isolated']
    if (o.isolate) {
      // the hosts on their CPU, the clients on theirs; every thread's own mask is put back, whatever happens
      const { cpus } = o.isolate
      const restore = pinLab(o.isolate.cgroupDir, cpus.lab)
      try {
        const apart = await runPairs(` (hosts on CPU ${cpus.lab}, clients on ${cpus.controller})`, cpus.controller)
        isolated = { cpus, ...summaries(apart), pairs: apart }
      } finally {
        restore()
      }
    }
    return {
      hosts: hosts.map((h) => h.name),
      opsPerHost: Object.fromEntries(Object.entries(ops).map(([h, list]) => [h, list.length])),
      ...summaries(pairs),
      pairs,
      cpu: { runs: cpuRuns, musterMs: summarize(cpu.muster), floorMs: summarize(cpu.floor) },
      ...(isolated ? { isolated } : {}),
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

function summaries(pairs: FloorResult['pairs']): Pick<FloorResult, 'musterMs' | 'floorMs' | 'ratio'> {
  return {
    musterMs: summarize(pairs.map((p) => p.musterMs)),
    floorMs: summarize(pairs.map((p) => p.floorMs)),
    ratio: summarize(pairs.map((p) => p.musterMs / p.floorMs)),
  }
}

export function floorLine(f: FloorResult): string {
  const i = f.isolated
  return (
    `Floor: muster's converged check ${secs(f.musterMs.median)} s vs a minimal ssh2 client sending its probe scripts ${secs(f.floorMs.median)} s ` +
    `(${f.hosts.length} hosts, ${Object.values(f.opsPerHost).join('/')} scripts/reads per host), paired ratio ${num(f.ratio.median, 2)} (${num(f.ratio.min, 2)}-${num(f.ratio.max, 2)} over ${f.pairs.length} pairs; target 1.05)` +
    (f.cpu ? `
  CPU per run (user + system, median of ${f.cpu.runs}): muster ${secs(f.cpu.musterMs.median)} s, floor ${secs(f.cpu.floorMs.median)} s` : '') +
    (i
      ? `\n  with the hosts on CPU ${i.cpus.lab} and the clients on CPU ${i.cpus.controller} (a controller apart from its servers): ${secs(i.musterMs.median)} s vs ${secs(i.floorMs.median)} s, ` +
        `paired ratio ${num(i.ratio.median, 2)} (${num(i.ratio.min, 2)}-${num(i.ratio.max, 2)} over ${i.pairs.length} pairs)`
      : '')
  )
}

/** The floor's second figure where the machine has at least two CPUs and the lab its cgroup. */
export function isolation(): FloorOptions['isolate'] {
  const cpus = splitCpus(availableParallelism())
  const cgroupDir = labCgroupDir()
  return cpus && cgroupDir && existsSync(cgroupDir) ? { cgroupDir, cpus } : undefined
}
