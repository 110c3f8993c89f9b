/**
 * The bench proper (run.ts is the entry): muster against Ansible on a local
 * lab, and muster's own cost at fleet scale. Prints tables of medians,
 * min/max and ratios, and writes bench/results/latest.json. Benchmarks, not
 * tests: nothing here asserts a time; targets missed are reported as missed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { BenchUsageError, parseBenchArgs, USAGE, type BenchArgs } from './lib/args.ts'
import { formatTable, num, secs } from './lib/table.ts'
import { scenarioRow, SCENARIO_HEADER, type ScenarioResult, type ScenarioSummary } from './lib/scenario.ts'
import { controllerTable, runControllerBench, type ControllerBenchResult } from './controller.ts'
import { runStackBench, type StackBenchResult } from './stack.ts'
import { runFleetBench, type FleetBenchResult } from './fleet.ts'
import { releasesTable, runReleaseBench, type ReleaseBenchResult } from './releases.ts'
import { runScenarioBench, scenarioTable as musterTestTable, type ScenarioBenchResult } from './scenario.ts'
import { labSuites } from '../src/lab/suite.ts'
import { repoRoot, runMuster, warmMuster } from './tools/muster.ts'
import { floorLine, isolation, runFloor, type FloorResult } from './floor.ts'
import { ensureFleet } from './lib/lab.ts'

interface Target {
  figure: string
  target: string
  measured: string
  met: boolean
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)
}

function stackTargets(r: Pick<StackBenchResult, 'scenarios'>): Target[] {
  const by = (n: string) => r.scenarios.find((s) => s.name === n)
  const out: Target[] = []
  const nc = by('no-change apply')
  const ck = by('check (converged)')
  const cold = by('cold provision')
  if (nc) {
    out.push({ figure: 'no-change run of site, 4 hosts: ratio', target: '<= 0.1 of Ansible', measured: num(nc.ratio, 3), met: nc.ratio <= 0.1 })
    out.push({ figure: 'no-change run of site, 4 hosts: time', target: '< 1.5 s', measured: `${secs(nc.muster.median)} s`, met: nc.muster.median < 1500 })
    if (nc.musterExecsPerPlay !== undefined) {
      out.push({ figure: 'exec channels per host, no-change run', target: '<= 2 per play', measured: num(nc.musterExecsPerPlay, 2), met: nc.musterExecsPerPlay <= 2 })
    }
  }
  if (ck) {
    out.push({ figure: 'check, converged, 4 hosts: ratio', target: '<= 0.05 of Ansible', measured: num(ck.ratio, 3), met: ck.ratio <= 0.05 })
    out.push({ figure: 'check, converged, 4 hosts: time', target: '< 1 s', measured: `${secs(ck.muster.median)} s`, met: ck.muster.median < 1000 })
  }
  if (cold) out.push({ figure: 'cold provision from bare', target: '<= 0.7 of Ansible', measured: num(cold.ratio, 3), met: cold.ratio <= 0.7 })
  const both = by('check (converged, baseline + site)')
  if (both) {
    const execs = both.musterExecsPerHost
    out.push({
      figure: 'check of baseline + site in one run, converged, 4 hosts',
      target: '< 1 s, one probe script per host',
      measured: `${secs(both.muster.median)} s (site alone ${ck ? secs(ck.muster.median) : '-'} s), ${execs ? `${execs.min}-${execs.max}` : '-'} execs/host`,
      met: both.muster.median < 1000 && execs?.max === 1,
    })
  }
  return out
}

function fleetTargets(r: Pick<FleetBenchResult, 'scenarios' | 'hosts'>): Target[] {
  const nc = r.scenarios.find((s) => s.name === 'no-change apply')
  return nc ? [{ figure: `${r.hosts} hosts, no-change: ratio`, target: '<= 0.1 of Ansible', measured: num(nc.ratio, 3), met: nc.ratio <= 0.1 }] : []
}

function scenarioTable(label: string, scenarios: readonly ScenarioSummary[]): string {
  return formatTable(SCENARIO_HEADER, scenarios.map((s) => scenarioRow(label, s)))
}

/** The results file stays small: summaries and per-run times, not every host's recap. */
function slim(raw: readonly ScenarioResult[]) {
  return raw.map((s) => ({
    name: s.name,
    hosts: s.hosts,
    musterWallMs: s.muster.map((r) => Math.round(r.wallMs)),
    ansibleWallMs: s.ansible.map((r) => Math.round(r.wallMs)),
    musterExecs: s.muster[0]?.execs,
    musterSlowest: s.muster[0]?.slowest,
    ansibleExecs: s.ansibleExecs,
    problems: [...s.muster, ...s.ansible].flatMap((r) => r.problems.map((p) => `${r.tool}: ${p}`)),
  }))
}

async function main(args: BenchArgs): Promise<number> {
  const started = new Date()
  const out = resolve(args.out ?? join(repoRoot, 'bench/results/latest.json'))
  const results: {
    startedAt: string
    args: BenchArgs
    controller?: ControllerBenchResult
    stack?: Omit<StackBenchResult, 'raw'> & { runs: unknown }
    fleet?: Omit<FleetBenchResult, 'raw'> & { runs: unknown }
    releases?: ReleaseBenchResult
    scenario?: ScenarioBenchResult
    floor?: FloorResult
    targets: Target[]
    errors: string[]
    /** The machine's 1-minute load average before and after each part: a busy machine makes wall times noisy. */
    load: Record<string, { before: number; after: number; cpus: number }>
    /** Parts not run this time, kept from the results file as it was (`--only stack` updates only the stack). */
    keptFrom?: Record<string, string>
  } = { startedAt: started.toISOString(), args, targets: [], errors: [], load: {} }
  if (existsSync(out)) {
    try {
      const prev = JSON.parse(readFileSync(out, 'utf8')) as typeof results
      for (const part of ['controller', 'stack', 'fleet', 'releases', 'scenario', 'floor'] as const) {
        if (args.only.includes(part) || !prev[part]) continue
        ;(results as Record<string, unknown>)[part] = prev[part]
        results.keptFrom = { ...results.keptFrom, [part]: prev.keptFrom?.[part] ?? prev.startedAt }
        if (prev.load?.[part]) results.load[part] = prev.load[part]
      }
    } catch (e) {
      log(`${out}: not readable as earlier results (${(e as Error).message}); starting afresh`)
    }
  }
  const measureLoad = async <T>(part: string, work: () => Promise<T>): Promise<T> => {
    const before = loadavg()[0]!
    try {
      return await work()
    } finally {
      results.load[part] = { before, after: loadavg()[0]!, cpus: availableParallelism() }
      log(`${part}: load average ${before.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, on ${availableParallelism()} CPUs`)
    }
  }
  const tables: string[] = []

  // the controller bench needs no lab: first, while the machine is quiet
  if (args.only.includes('controller')) {
    try {
      const r = await measureLoad('controller', () => runControllerBench({
        sizes: args.sizes,
        runs: args.runs,
        modes: args.modes,
        workers: args.workers,
        ...(args.forks ? { forks: args.forks } : {}),
        ...(args.cpuProfileDir ? { cpuProfileDir: resolve(args.cpuProfileDir) } : {}),
        servers: args.servers,
        shards: args.shards,
        knownHosts: args.knownHosts,
        port: args.port,
        log,
      }))
      results.controller = { ...r, rows: r.rows.map((row) => ({ ...row, runs: [] })) }
      tables.push(controllerTable(r))
    } catch (e) {
      results.errors.push(`controller: ${(e as Error).message}`)
      log(`controller bench failed: ${(e as Error).stack}`)
    }
  }
  if (args.only.includes('stack')) {
    try {
      const r = await measureLoad('stack', () => runStackBench({ runs: args.runs, log }))
      const { raw, ...rest } = r
      results.stack = { ...rest, runs: slim(raw) }
      tables.push(`Reference stack on ${r.hosts.length} lab hosts (${r.ansibleVersion})\n${scenarioTable('stack', r.scenarios)}`)
      const prereq = r.ansiblePrereqMs.length ? `${secs(Math.min(...r.ansiblePrereqMs))}-${secs(Math.max(...r.ansiblePrereqMs))} s` : '-'
      tables.push(`  Ansible's prerequisites (python3, python3-pymysql on bare hosts, untimed, not in its figures): ${prereq} per cold run`)
      tables.push(`  After both converged, changes each still made: ${r.crossCheck.map((c) => `${c.tool} ${Object.values(c.changed).reduce((s, n) => s + n, 0)}`).join(', ')}`)
      if (r.floor) tables.push(`  ${floorLine(r.floor)}`)
    } catch (e) {
      results.errors.push(`stack: ${(e as Error).message}`)
      log(`stack bench failed: ${(e as Error).stack}`)
    }
  }
  if (args.only.includes('fleet')) {
    try {
      const r = await measureLoad('fleet', () => runFleetBench({ hosts: args.fleetHosts, runs: args.runs, shards: args.shards, log }))
      const { raw, ...rest } = r
      results.fleet = { ...rest, runs: slim(raw) }
      tables.push(`Fleet: ${r.hosts} lab hosts, ${r.resourcesPerHost} resources each (${r.ansibleVersion})\n${scenarioTable('fleet', r.scenarios)}`)
      tables.push(`  After both converged, changes each still made: ${r.crossCheck.map((c) => `${c.tool} ${Object.values(c.changed).reduce((s, n) => s + n, 0)}`).join(', ')}`)
      if (r.sharded) tables.push(`  Shards: the converged fleet checked as ${r.sharded.shards} local --shard processes at once: ${secs(r.sharded.wallMs.median)} s wall (${secs(r.sharded.wallMs.min)}-${secs(r.sharded.wallMs.max)}) vs ${secs(r.sharded.oneWallMs.median)} s in one process; all on this machine's cores, so this shows the cost of splitting, not what N machines gain`)
    } catch (e) {
      results.errors.push(`fleet: ${(e as Error).message}`)
      log(`fleet bench failed: ${(e as Error).stack}`)
    }
  }

  if (args.only.includes('scenario')) {
    try {
      const r = await measureLoad('scenario', () => runScenarioBench({ runs: args.runs, log }))
      results.scenario = r
      tables.push(musterTestTable(r))
      if (r.problems.length) results.errors.push(...r.problems.map((p) => `scenario: ${p}`))
    } catch (e) {
      results.errors.push(`scenario: ${(e as Error).message}`)
      log(`scenario bench failed: ${(e as Error).stack}`)
    }
  }

  // the floor alone: the reference stack converged by muster on the bench's lab, then --runs alternating pairs
  if (args.only.includes('floor')) {
    try {
      const r = await measureLoad('floor', async () => {
        await ensureFleet(4, log)
        const playbook = join(repoRoot, 'playbooks/site.ts')
        const inventory = join(repoRoot, 'inventory/lab.ts')
        const stateDir = mkdtempSync(join(tmpdir(), 'muster-bench-floor-state-'))
        await warmMuster(playbook)
        const converge = await runMuster({ mode: 'apply', playbook, inventory, stateDir })
        if (converge.code !== 0) throw new Error(`converging the stack failed (exit ${converge.code}): ${converge.problems.join('; ')}${converge.tail ? `\n${converge.tail}` : ''}`)
        log(`floor: stack converged in ${secs(converge.wallMs)} s`)
        return runFloor({ playbook, inventory, stateDir, pairs: Math.max(args.runs, 3), log, isolate: isolation() })
      })
      results.floor = r
      tables.push(floorLine(r))
    } catch (e) {
      results.errors.push(`floor: ${(e as Error).message}`)
      log(`floor bench failed: ${(e as Error).stack}`)
    }
  }

  // last: it switches the bench lab's release (the stack and fleet parts ask for theirs, whatever it left)
  if (args.only.includes('releases')) {
    try {
      const r = await measureLoad('releases', () => runReleaseBench({ runs: args.runs, suites: labSuites, log }))
      results.releases = r
      tables.push(releasesTable(r))
    } catch (e) {
      results.errors.push(`releases: ${(e as Error).message}`)
      log(`releases bench failed: ${(e as Error).stack}`)
    }
  }

  results.targets = [
    ...(results.controller?.targets ?? []),
    ...(results.stack ? stackTargets(results.stack) : []),
    ...(results.fleet ? fleetTargets(results.fleet) : []),
    ...(results.scenario
      ? [{ figure: 'muster test, one role on one warm lab host', target: '< 15 s', measured: `${secs(results.scenario.wall.median)} s`, met: results.scenario.wall.median < 15_000 }]
      : []),
  ]
  if (results.keptFrom) tables.push(`Kept from earlier runs (not run now): ${Object.entries(results.keptFrom).map(([p, t]) => `${p} of ${t}`).join(', ')}`)
  if (results.targets.length) {
    tables.push(
      `Targets (issues 5 and 17)\n${formatTable(
        ['figure', 'target', 'measured', 'met'],
        results.targets.map((t) => [t.figure, t.target, t.measured, t.met ? 'yes' : 'MISSED']),
      )}`,
    )
  }
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify(results, null, 1) + '\n')
  const loads = Object.entries(results.load).map(([p, l]) => `${p} ${l.before.toFixed(1)}->${l.after.toFixed(1)}`)
  if (loads.length) tables.push(`Machine load average (1 min) around each part, on ${availableParallelism()} CPUs: ${loads.join(', ')}`)
  process.stdout.write(`\n${tables.join('\n\n')}\n\nresults: ${out}\n`)
  if (results.errors.length) process.stdout.write(`errors:\n  ${results.errors.join('\n  ')}\n`)
  return results.errors.length ? 1 : 0
}

let args: BenchArgs
try {
  args = parseBenchArgs(process.argv.slice(2))
} catch (e) {
  if (!(e instanceof BenchUsageError)) throw e
  process.stderr.write(`${e.message}\n\n${USAGE}\n`)
  process.exit(64)
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
main(args).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`)
    process.exit(1)
  },
)
