/**
 * Controller-only bench: how muster's own cost (wall time, CPU, peak memory)
 * grows with the fleet, with the hosts taken out of the picture.
 *
 * Simulated hosts are ssh2 servers in separate processes (canned-server.ts),
 * one loopback address each (127.1.x.y, one port), presenting one host key
 * recorded in a known_hosts with a line per host, and answering muster's
 * probe scripts with the output of a converged host (replay.ts). Each
 * measured run is a fresh controller process (drive.ts) running muster's CLI
 * path with forks = host count, so every host's connection is open at once.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeBenchKeys, writeKnownHosts, type KnownHostsStyle } from './controller/keys.ts'
import { runLocally } from './controller/converge-local.ts'
import type { ServerConfig, ServerMessage, ServerStats } from './controller/canned-server.ts'
import type { DriveConfig, DriveResult } from './controller/drive.ts'
import { convergedProblems } from './controller/converged.ts'
import { knownHostsCost, type KnownHostsCost } from './controller/known-hosts-cost.ts'
import { linearFit, summarize, type Summary } from './lib/stats.ts'
import { summarise, formatSummary, type CpuProfile, type ProfileSummary } from './controller/profile-summary.ts'
import { formatTable, num, secs, spreadSecs } from './lib/table.ts'
import type { Mode } from '../src/engine/events.ts'

export interface ControllerBenchOptions {
  sizes: readonly number[]
  runs: number
  modes: readonly Mode[]
  /** Forks per run; default: the host count. */
  forks?: number
  /** Server processes the simulated hosts are spread over. */
  servers: number
  /** The shard figure: check the largest size as this many local `--shard K/N` processes at once (1: off). */
  shards?: number
  knownHosts: KnownHostsStyle
  port: number
  /** Write a V8 CPU profile of every measured controller run into this directory (a subdirectory per run). */
  cpuProfileDir?: string
  /** The controller's `--workers` (threads in its one process); default 1. */
  workers?: number
  log: (line: string) => void
}

export interface ControllerRow {
  hosts: number
  mode: Mode
  forks: number
  wallMs: Summary
  cpuMs: Summary
  peakRssMb: Summary
  baselineRssMb: Summary
  peakHeapMb: Summary
  /** The simulated hosts' CPU during the run (all server processes): shares the machine with the controller. */
  serverCpuMs: Summary
  execsPerHost: number
  probeBatchesPerHost: number
  /** The controller's threads (--workers). */
  workers: number
  /** With --cpu-prof: the first run's profile by self time (the controller's threads, not the TypeScript loader's). */
  profile?: ProfileSummary
  runs: DriveResult[]
}

export interface ShardFigure {
  hosts: number
  shards: number
  /** From the first shard's start to the last one's end (each process's own start-up excluded, as in the rows). */
  wallMs: number
  /** All shard processes' controller CPU, added up. */
  cpuMs: number
  /** The largest shard process's peak RSS, and all of them added up. */
  maxPeakRssMb: number
  sumPeakRssMb: number
  /** The one-process check of the same hosts (median of the row). */
  oneWallMs: number
  oneCpuMs: number
}

export interface ControllerGrowth {
  mode: Mode
  /** Least-squares fit over the sizes: ms of wall time / CPU per added host, MB of peak RSS per added host. */
  wallMsPerHost: number
  cpuMsPerHost: number
  rssMbPerHost: number
  /** Per-host cost at the largest size divided by at the smallest size >= 100: ~1 is linear, > 1 superlinear. */
  cpuPerHostGrowth: number
  wallR2: number
}

export interface ControllerBenchResult {
  kind: 'controller'
  machine: { cpus: number; node: string }
  knownHosts: KnownHostsStyle
  servers: number
  resourcesPerHost: number
  rows: ControllerRow[]
  growth: ControllerGrowth[]
  /** muster's host-key lookups alone, per connection, by known_hosts size (one line per host). */
  knownHostsCost: KnownHostsCost[]
  /** The largest size checked as N shard processes at once, beside the one-process check of the same size. */
  sharded?: ShardFigure
  targets: { figure: string; target: string; measured: string; met: boolean }[]
}

const here = fileURLToPath(new URL('.', import.meta.url))
const PLAYBOOK = join(here, 'fleet', 'playbook.ts')
const SHIM = join(here, 'controller', 'shim')
const SERVER_HOSTS_MAX = 4000
/** The fleet playbook without the package-list refresh (the controller's machine need not run apt). */
const RESOURCES = 20

/** Host i (0-based) of the simulated fleet: 127.1.0.1, ... 250 to a /24, never .0 or .255. */
export function simulatedAddress(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`
}

export function hostName(i: number, width: number): string {
  return `sim-${String(i + 1).padStart(width, '0')}`
}

function inventoryModule(n: number, o: { port: number; root: string; clientKeyFile: string; knownHostsFile: string }): string {
  const width = String(n).length
  const hosts: Record<string, { address: string; port: number }> = {}
  for (let i = 0; i < n; i++) hosts[hostName(i, width)] = { address: simulatedAddress(i), port: o.port }
  const spec = {
    ssh: { user: 'root', identityFile: o.clientKeyFile, knownHosts: o.knownHostsFile },
    vars: { benchRoot: o.root, benchPackage: 'less', benchUnit: 'cron', benchAptUpdate: false },
    hosts,
  }
  return `// generated by bench/controller.ts: ${n} simulated hosts\nexport default ${JSON.stringify(spec, null, 1)}\n`
}

class ServerProcess {
  readonly #child: ChildProcess
  readonly #waiters: ((m: ServerMessage) => void)[] = []

  constructor() {
    // the bench's own loader flags (tsx, the muster-source condition) carry over
    this.#child = fork(join(here, 'controller', 'canned-server.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#child.on('message', (m: ServerMessage) => this.#waiters.shift()?.(m))
  }

  #next(): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`a bench server process exited (${code}) before answering`))
      this.#child.once('exit', onExit)
      this.#waiters.push((m) => {
        this.#child.off('exit', onExit)
        resolve(m)
      })
    })
  }

  async start(config: ServerConfig): Promise<void> {
    const answer = this.#next()
    this.#child.send({ type: 'config', config })
    const m = await answer
    if (m.type !== 'ready') throw new Error(`bench server did not start: ${m.type === 'failed' ? m.message : m.type}`)
  }

  async stats(): Promise<ServerStats> {
    const answer = this.#next()
    this.#child.send({ type: 'stats' })
    const m = await answer
    if (m.type !== 'stats') throw new Error(`bench server answered ${m.type} to stats`)
    return m.stats
  }

  stop(): void {
    if (this.#child.connected) this.#child.disconnect()
    if (this.#child.exitCode === null && this.#child.pid) this.#child.kill()
  }
}

function drive(cfg: DriveConfig, env: NodeJS.ProcessEnv, cpuProfileDir?: string): Promise<DriveResult> {
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...profile, join(here, 'controller', 'drive.ts'), JSON.stringify(cfg)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`controller run failed (exit ${code}): ${err.trim() || out.trim()}`))
      resolve(JSON.parse(line) as DriveResult)
    })
  })
}

async function serverCpu(servers: readonly ServerProcess[]): Promise<{ cpuMs: number; unexpected: string[] }> {
  const all = await Promise.all(servers.map((s) => s.stats()))
  return { cpuMs: all.reduce((s, x) => s + x.cpuUserMs + x.cpuSystemMs, 0), unexpected: all.flatMap((x) => x.unexpected) }
}

export async function runControllerBench(opts: ControllerBenchOptions): Promise<ControllerBenchResult> {
  const max = Math.max(...opts.sizes)
  if (max > 250 * 250) throw new Error(`at most ${250 * 250} simulated hosts`)
  const work = mkdtempSync(join(tmpdir(), 'muster-bench-controller-'))
  const servers: ServerProcess[] = []
  try {
    const root = join(work, 'root')
    mkdirSync(root)
    const keys = writeBenchKeys(work)
    const env = { ...process.env, MUSTER_STATE_DIR: join(work, 'state'), CI: '1' }

    // 1. a really converged host for the servers to imitate
    const prepInventory = join(work, 'local.ts')
    writeFileSync(
      prepInventory,
      `export default ${JSON.stringify({ hosts: { local: { address: '127.0.0.1' } }, vars: { benchRoot: root, benchPackage: 'less', benchUnit: 'cron', benchAptUpdate: false } })}\n`,
    )
    opts.log(`controller: converging the local scratch root ${root} (the state the simulated hosts report)`)
    await runLocally(PLAYBOOK, prepInventory, SHIM, 'apply')
    const again = await runLocally(PLAYBOOK, prepInventory, SHIM, 'apply')
    const notYet = convergedProblems(again, RESOURCES)
    if (notYet.length) throw new Error(`the local root did not converge: ${notYet.join('; ')}`)

    // 2. the simulated hosts
    const endpoints = Array.from({ length: max }, (_, i) => ({ address: simulatedAddress(i), port: opts.port }))
    // each simulated host is a listening socket plus an accepted one in its server process: at most
    // SERVER_HOSTS_MAX hosts per process keeps it under a 20,000 open-file limit
    const count = Math.max(1, Math.min(Math.max(opts.servers, Math.ceil(max / SERVER_HOSTS_MAX)), max))
    for (let s = 0; s < count; s++) servers.push(new ServerProcess())
    opts.log(`controller: ${max} simulated hosts on ${count} server process(es), port ${opts.port}`)
    await Promise.all(
      servers.map((srv, s) =>
        srv.start({
          endpoints: endpoints.filter((_, i) => i % count === s),
          hostKeyFile: keys.hostKeyFile,
          clientPublicKey: keys.clientPublicKey,
          shimDir: SHIM,
        }),
      ),
    )

    // 3. the runs: sizes, then modes, then repeats
    const rows: ControllerRow[] = []
    for (const n of opts.sizes) {
      const knownHostsFile = join(work, `known_hosts.${n}`)
      writeKnownHosts(knownHostsFile, endpoints.slice(0, n), keys.hostPublicKey, opts.knownHosts)
      const inventory = join(work, `inventory-${n}.ts`)
      writeFileSync(inventory, inventoryModule(n, { port: opts.port, root, clientKeyFile: keys.clientKeyFile, knownHostsFile }))
      for (const mode of opts.modes) {
        const forks = opts.forks ?? n
        const runs: DriveResult[] = []
        const serverMs: number[] = []
        let profile: ProfileSummary | undefined
        for (let r = 0; r < opts.runs; r++) {
          const before = await serverCpu(servers)
          const profDir = opts.cpuProfileDir ? join(opts.cpuProfileDir, `${n}-${mode}-w${opts.workers ?? 1}-${r + 1}`) : undefined
          const res = await drive({ playbook: PLAYBOOK, inventory, mode, forks, resources: RESOURCES, hosts: n, ...(opts.workers && opts.workers > 1 ? { workers: opts.workers } : {}) }, env, profDir)
          if (profDir && r === 0) {
            profile = controllerProfile(profDir)
            if (profile) opts.log(`controller: ${n} hosts ${mode}, where the time goes (V8 profile, self time):\n${formatSummary({ ...profile, functions: profile.functions.slice(0, 15) }, n)}`)
          }
          const after = await serverCpu(servers)
          if (res.notConverged.length > 0 || res.hosts !== n) {
            throw new Error(
              `${n} hosts, ${mode}: the run did not see ${n} converged hosts (${res.hosts} in the recap; ${res.notConverged.join('; ')}; server saw: ${after.unexpected.join(' | ')})`,
            )
          }
          runs.push(res)
          serverMs.push(after.cpuMs - before.cpuMs)
          opts.log(
            `controller: ${n} hosts ${mode} run ${r + 1}/${opts.runs}: ${secs(res.wallMs)} s wall, ${secs(res.cpuUserMs + res.cpuSystemMs)} s CPU, peak RSS ${num(res.peakRssMb, 0)} MB`,
          )
        }
        rows.push({
          hosts: n,
          mode,
          forks,
          wallMs: summarize(runs.map((r) => r.wallMs)),
          cpuMs: summarize(runs.map((r) => r.cpuUserMs + r.cpuSystemMs)),
          peakRssMb: summarize(runs.map((r) => r.peakRssMb)),
          baselineRssMb: summarize(runs.map((r) => r.baselineRssMb)),
          peakHeapMb: summarize(runs.map((r) => r.peakHeapMb)),
          serverCpuMs: summarize(serverMs),
          execsPerHost: runs[0]!.execsPerHost.max,
          probeBatchesPerHost: runs[0]!.probeBatchesPerHost.max,
          workers: opts.workers ?? 1,
          ...(profile ? { profile } : {}),
          runs,
        })
      }
    }
    const growth = opts.modes.map((mode) => growthOf(rows.filter((r) => r.mode === mode), mode))
    const sharded = (opts.shards ?? 1) > 1 ? await shardFigure(opts, rows, max, work, env) : undefined
    const khCost = await knownHostsCost(keys.hostPublicKey, (n) => endpoints.slice(0, n), opts.sizes)
    return {
      kind: 'controller',
      machine: machine(),
      knownHosts: opts.knownHosts,
      servers: count,
      resourcesPerHost: RESOURCES,
      rows,
      growth,
      knownHostsCost: khCost,
      ...(sharded ? { sharded } : {}),
      targets: controllerTargets(rows),
    }
  } finally {
    for (const s of servers) s.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

/**
 * The largest size checked again as N `--shard K/N` processes started
 * together, as N machines would run them (here they share this machine's
 * cores with the simulated hosts): wall from the first start to the last
 * end, CPU added up, and the one-process row beside it.
 */
async function shardFigure(opts: ControllerBenchOptions, rows: readonly ControllerRow[], n: number, work: string, env: NodeJS.ProcessEnv): Promise<ShardFigure | undefined> {
  const one = rows.find((r) => r.hosts === n && r.mode === 'check')
  if (!one) return undefined
  const count = opts.shards!
  const inventory = join(work, `inventory-${n}.ts`)
  const t0 = Date.now()
  const parts = await Promise.all(
    Array.from({ length: count }, (_, k) =>
      drive({ playbook: PLAYBOOK, inventory, mode: 'check', forks: opts.forks ?? n, resources: RESOURCES, hosts: n, shard: `${k}/${count}` }, { ...env, MUSTER_STATE_DIR: join(work, `state-${k}`) }),
    ),
  )
  const wallMs = Date.now() - t0
  const seen = parts.reduce((s, p) => s + p.hosts, 0)
  const problems = parts.flatMap((p) => p.notConverged)
  if (seen !== n || problems.length) throw new Error(`${count} shards of ${n} hosts: the shards saw ${seen} converged hosts (${problems.slice(0, 3).join('; ')})`)
  const figure: ShardFigure = {
    hosts: n,
    shards: count,
    wallMs,
    cpuMs: parts.reduce((s, p) => s + p.cpuUserMs + p.cpuSystemMs, 0),
    maxPeakRssMb: Math.max(...parts.map((p) => p.peakRssMb)),
    sumPeakRssMb: parts.reduce((s, p) => s + p.peakRssMb, 0),
    oneWallMs: one.wallMs.median,
    oneCpuMs: one.cpuMs.median,
  }
  opts.log(`controller: ${n} hosts check as ${count} shard processes: ${secs(wallMs)} s wall (one process: ${secs(one.wallMs.median)} s), ${secs(figure.cpuMs)} s CPU in all`)
  return figure
}

/**
 * The profiles of one controller run's threads summed (main thread and
 * --workers threads: those that ran muster's engine), without the thread of
 * the bench's TypeScript loader, which a user's muster (compiled) has not.
 */
function controllerProfile(dir: string): ProfileSummary | undefined {
  let files: string[]
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  } catch {
    return undefined
  }
  const profiles = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile).filter((p) => p.nodes.some((n) => /\/src\/engine\//.test(n.callFrame.url)))
  return profiles.length ? summarise(profiles, 25) : undefined
}

function machine(): { cpus: number; node: string } {
  return { cpus: availableParallelism(), node: process.version }
}

function growthOf(rows: readonly ControllerRow[], mode: Mode): ControllerGrowth {
  const pts = (f: (r: ControllerRow) => number) => rows.map((r) => ({ x: r.hosts, y: f(r) }))
  const wall = linearFit(pts((r) => r.wallMs.median))
  const cpu = linearFit(pts((r) => r.cpuMs.median))
  const rss = linearFit(pts((r) => r.peakRssMb.median))
  const big = rows.filter((r) => r.hosts >= 100)
  const first = big[0]
  const last = big[big.length - 1]
  const perHost = (r: ControllerRow) => r.cpuMs.median / r.hosts
  return {
    mode,
    wallMsPerHost: wall.slope,
    cpuMsPerHost: cpu.slope,
    rssMbPerHost: rss.slope,
    cpuPerHostGrowth: first && last && first !== last ? perHost(last) / perHost(first) : Number.NaN,
    wallR2: wall.r2,
  }
}

function controllerTargets(rows: readonly ControllerRow[]): ControllerBenchResult['targets'] {
  const out: ControllerBenchResult['targets'] = []
  const worst = (n: number) => {
    const at = rows.filter((r) => r.hosts === n)
    if (at.length === 0) return undefined
    return { wall: Math.max(...at.map((r) => r.wallMs.median)), rss: Math.max(...at.map((r) => r.peakRssMb.median)) }
  }
  for (const [n, wallS, rssMb] of [
    [500, 15, 500],
    [1000, 30, 1024],
    [10000, 60, 1536],
  ] as const) {
    const w = worst(n)
    if (!w) continue
    out.push({ figure: `${n} simulated hosts, wall (median, worst mode)`, target: `< ${wallS} s`, measured: `${secs(w.wall)} s`, met: w.wall < wallS * 1000 })
    out.push({ figure: `${n} simulated hosts, controller peak RSS`, target: `< ${rssMb} MB`, measured: `${num(w.rss, 0)} MB`, met: w.rss < rssMb })
  }
  return out
}

export function controllerTable(r: ControllerBenchResult): string {
  const rows = r.rows.map((x) => [
    `${x.hosts} ${x.mode}${x.workers > 1 ? ` w${x.workers}` : ''}`,
    String(x.forks),
    spreadSecs(x.wallMs),
    secs(x.cpuMs.median),
    num((x.cpuMs.median / x.hosts), 2),
    num(x.peakRssMb.median, 0),
    num(x.baselineRssMb.median, 0),
    num(x.peakHeapMb.median, 0),
    secs(x.serverCpuMs.median),
    String(x.execsPerHost),
  ])
  const table = formatTable(
    ['hosts mode', 'forks', 'wall s (min-max)', 'ctl CPU s', 'CPU ms/host', 'peak RSS MB', 'start RSS MB', 'peak heap MB', 'servers CPU s', 'execs/host'],
    rows,
  )
  const growth = r.growth.map(
    (g) =>
      `  ${g.mode}: +${num(g.wallMsPerHost, 2)} ms wall, +${num(g.cpuMsPerHost, 2)} ms CPU, +${num(g.rssMbPerHost * 1024, 0)} KB peak RSS per added host` +
      ` (least squares over the sizes, wall R^2 ${num(g.wallR2, 3)}); CPU per host at the largest size / at 100: ${num(g.cpuPerHostGrowth, 2)}`,
  )
  return [
    `Controller only: ${r.resourcesPerHost} resources per host, simulated hosts in ${r.servers} separate process(es), known_hosts ${r.knownHosts === 'wildcard' ? 'with one wildcard line for all hosts' : `${r.knownHosts}, one line per host`} (${r.machine.cpus} CPUs, Node ${r.machine.node})`,
    table,
    'Growth:',
    ...growth,
    ...(r.sharded
      ? [
          `Shards: ${r.sharded.hosts} hosts checked as ${r.sharded.shards} local --shard processes at once: ${secs(r.sharded.wallMs)} s wall vs ${secs(r.sharded.oneWallMs)} s in one process ` +
            `(ratio ${num(r.sharded.wallMs / r.sharded.oneWallMs, 2)}), ${secs(r.sharded.cpuMs)} s CPU vs ${secs(r.sharded.oneCpuMs)} s, peak RSS ${num(r.sharded.maxPeakRssMb, 0)} MB per process (${num(r.sharded.sumPeakRssMb, 0)} MB in all); ` +
            `the processes share ${r.machine.cpus} CPUs with the simulated hosts, so on N machines the wall would be about one shard's`,
        ]
      : []),
    `muster's host-key lookups alone, per connection, by known_hosts lines (ms): ${r.knownHostsCost
      .map((k) => `${k.style} ${k.lines}: ${num(k.msPerConnection, 2)}`)
      .join(', ')}`,
  ].join('\n')
}
