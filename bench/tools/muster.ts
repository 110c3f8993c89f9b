/**
 * muster as a user runs it: `node bin/muster.js apply|check <playbook> -i <inventory> --json`,
 * a new process each time (start-up included in the time), the type-check
 * verdict already cached (warm() pays for it once, untimed).
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Recap } from '../../src/engine/events.ts'
import { loadPlaybook } from '../../src/cli/load-playbook.ts'
import { runTimed } from '../lib/proc.ts'
import { onCpus } from '../lib/affinity.ts'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export interface ToolRun {
  tool: 'muster' | 'ansible'
  wallMs: number
  code: number
  /** Per host: resources/tasks changed (muster: changed + would-change in check mode). */
  changed: Record<string, number>
  failed: Record<string, number>
  unreachable: string[]
  /** Per host: SSH exec channels the run opened (muster: from its recap). */
  execs?: Record<string, number>
  /** Why a run is not what the scenario needs, e.g. a "no-change" run that changed something. */
  problems: string[]
  /** Last lines of output, for a failed run. */
  tail?: string
  /** muster: its slowest results (resources and handlers), where a run's time went. */
  slowest?: { host: string; what: string; ms: number }[]
}

export interface MusterRunOptions {
  mode: 'apply' | 'check'
  playbook: string
  inventory: string
  stateDir: string
  forks?: number
  timeoutMs?: number
  /** More arguments after the inventory (`-e name=value`). */
  extraArgs?: readonly string[]
  /** Run on these CPUs only (`taskset -c`, a list such as 0 or 0-2): the floor's figure with the controller apart. */
  cpus?: string
}

/** bin/muster.js rebuilds dist/ when src/ is newer, and the type-check is cached: both happen here, untimed. */
export async function warmMuster(playbook: string): Promise<void> {
  const help = await runTimed(process.execPath, [join(repoRoot, 'bin/muster.js'), '--help'], { cwd: repoRoot })
  if (help.code !== 0) throw new Error(`muster --help failed: ${help.stderr || help.stdout}`)
  await loadPlaybook(playbook, { typecheck: true })
}

/** node's arguments for the run `o` asks for: one command line for every bench that runs muster. */
export function musterArgs(o: MusterRunOptions): string[] {
  return [join(repoRoot, 'bin/muster.js'), o.mode, o.playbook, '-i', o.inventory, '--json', ...(o.forks ? ['--forks', String(o.forks)] : []), ...(o.extraArgs ?? [])]
}

/** The environment muster runs in: its own state directory, and plain output as in CI. */
export function musterEnv(stateDir: string): NodeJS.ProcessEnv {
  return { ...process.env, MUSTER_STATE_DIR: stateDir, CI: '1' }
}

export async function runMuster(o: MusterRunOptions): Promise<ToolRun & { recap?: Recap }> {
  const res = await runTimed(...onCpus(o.cpus, process.execPath, musterArgs(o)), {
    cwd: repoRoot,
    env: musterEnv(o.stateDir),
    timeoutMs: o.timeoutMs ?? 30 * 60_000,
  })
  const end = res.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"run:end"'))
    .pop()
  const run: ToolRun & { recap?: Recap } = { tool: 'muster', wallMs: res.wallMs, code: res.code, changed: {}, failed: {}, unreachable: [], problems: [] }
  if (!end) {
    run.problems.push(`no recap (exit ${res.code})`)
    run.tail = (res.stderr + res.stdout).split('\n').slice(-30).join('\n')
    return run
  }
  const recap = (JSON.parse(end) as { recap: Recap }).recap
  run.recap = recap
  run.slowest = slowest(res.stdout, 8)
  run.execs = {}
  for (const [h, r] of Object.entries(recap.hosts)) {
    run.changed[h] = r.changed + (o.mode === 'check' ? countWouldChange(res.stdout, h) : 0)
    run.failed[h] = r.failed
    if (r.unreachable) run.unreachable.push(h)
    run.execs[h] = r.stats.execs
  }
  if (res.code !== 0 && !(o.mode === 'check' && res.code === 2)) {
    run.problems.push(`exit ${res.code}`)
    run.tail = failures(res.stdout) || (res.stderr + res.stdout).split('\n').slice(-30).join('\n')
  }
  return run
}

function slowest(stdout: string, n: number): { host: string; what: string; ms: number }[] {
  const all: { host: string; what: string; ms: number }[] = []
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"type":"resource:result"')) continue
    const e = JSON.parse(line) as { host: string; resource: string; status: string; durationMs: number }
    all.push({ host: e.host, what: `${e.resource} (${e.status})`, ms: e.durationMs })
  }
  return all.sort((a, b) => b.ms - a.ms).slice(0, n)
}

function countWouldChange(stdout: string, host: string): number {
  let n = 0
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"type":"resource:result"') && !line.startsWith('{"type":"handler:result"')) continue
    const e = JSON.parse(line) as { host: string; status: string }
    if (e.host === host && e.status === 'would-change') n++
  }
  return n
}

/** The failed results of a JSON-lines run, one line each. */
function failures(stdout: string): string {
  const out: string[] = []
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const e = JSON.parse(line) as { type: string; status?: string; host?: string; resource?: string; error?: string; message?: string }
    if (e.status === 'failed' || e.type === 'host:failed' || e.type === 'host:unreachable') out.push(`${e.host} ${e.resource ?? ''}: ${e.error ?? e.message ?? ''}`)
  }
  return out.slice(0, 20).join('\n')
}
