/**
 * `muster test` on one role and one warm lab host (issue 17: under 15 s):
 * roles/nginx's scenario (check on bare, converge, idempotence, converged
 * check, verify, three side effects found and fixed, the host reset to bare
 * at the start and at the end), `runs` times after one untimed warm-up run
 * (the apt proxy's cache and the scenario's compile cache filled). Each run is
 * a new `muster test` process, timed from spawn to exit; the scenario's own
 * figure and its slowest steps are beside it.
 */
import { join } from 'node:path'
import { repoRoot } from './tools/muster.ts'
import { ensureFleet } from './lib/lab.ts'
import { runTimed } from './lib/proc.ts'
import { summarize, type Summary } from './lib/stats.ts'
import { formatTable, secs } from './lib/table.ts'

const SCENARIO = 'roles/nginx/test/default.scenario.ts'

export interface ScenarioBenchResult {
  kind: 'scenario'
  scenario: string
  /** spawn to exit of `muster test FILE --json` */
  wall: Summary
  /** the scenario's own duration (create to destroy) */
  scenarioMs: Summary
  /** median per step over the runs, slowest first */
  steps: { step: string; medianMs: number }[]
  problems: string[]
}

interface Line {
  type: string
  step?: string
  ok?: boolean
  durationMs?: number
  failures?: string[]
}

export async function runScenarioBench(opts: { runs: number; log: (l: string) => void }): Promise<ScenarioBenchResult> {
  await ensureFleet(4, opts.log)
  const once = async () => {
    const r = await runTimed(process.execPath, [join(repoRoot, 'bin/muster.js'), 'test', SCENARIO, '--json'], { cwd: repoRoot, timeoutMs: 5 * 60_000 })
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line)
    const problems = [
      ...(r.code === 0 ? [] : [`muster test exited ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`]),
      ...lines.filter((l) => l.type === 'step' && !l.ok).map((l) => `${l.step}: ${(l.failures ?? []).join('; ')}`),
    ]
    return { wallMs: r.wallMs, lines, problems }
  }
  const warm = await once()
  opts.log(`scenario: warm-up (untimed) ${secs(warm.wallMs)} s${warm.problems.length ? `, ${warm.problems.join('; ')}` : ''}`)
  const walls: number[] = []
  const own: number[] = []
  const perStep = new Map<string, number[]>()
  const problems: string[] = []
  for (let i = 0; i < opts.runs; i++) {
    const r = await once()
    walls.push(r.wallMs)
    const sc = r.lines.find((l) => l.type === 'scenario')
    if (sc?.durationMs !== undefined) own.push(sc.durationMs)
    for (const l of r.lines) if (l.type === 'step' && l.step) perStep.set(l.step, [...(perStep.get(l.step) ?? []), l.durationMs ?? 0])
    problems.push(...r.problems)
    opts.log(`scenario ${i + 1}/${opts.runs}: ${secs(r.wallMs)} s (scenario ${sc?.durationMs !== undefined ? secs(sc.durationMs) : '-'} s)`)
  }
  const steps = [...perStep].map(([step, ms]) => ({ step, medianMs: summarize(ms).median })).sort((a, b) => b.medianMs - a.medianMs)
  return { kind: 'scenario', scenario: SCENARIO, wall: summarize(walls), scenarioMs: summarize(own), steps, problems }
}

export function scenarioTable(r: ScenarioBenchResult): string {
  const row = (what: string, s: Summary): string[] => [what, secs(s.median), `${secs(s.min)}-${secs(s.max)}`, String(s.n)]
  return [
    `muster test: one role on one warm lab host (${r.scenario})`,
    formatTable(['figure', 'median s', 'min-max s', 'runs'], [row('muster test, spawn to exit', r.wall), row('the scenario, create to destroy', r.scenarioMs)]),
    `  slowest steps (median): ${r.steps.slice(0, 4).map((s) => `${s.step} ${secs(s.medianMs)} s`).join(', ')}`,
  ].join('\n')
}
