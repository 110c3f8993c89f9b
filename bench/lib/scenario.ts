/** One scenario (cold provision, no-change, check) of muster vs Ansible: runs, their summary, and the table row. */
import { ratio, summarize, type Summary } from './stats.ts'
import { secs, spreadSecs, num } from './table.ts'
import type { ToolRun } from '../tools/muster.ts'

export type ScenarioName = 'cold provision' | 'no-change apply' | 'check (converged)' | 'check (converged, baseline + site)'

export interface ScenarioResult {
  name: ScenarioName
  hosts: number
  muster: ToolRun[]
  ansible: ToolRun[]
  /** Per host, from one extra `-vvv` Ansible run (untimed). */
  ansibleExecs?: Record<string, number>
  /** muster's plays per host in this playbook, for "exec channels per play". */
  musterPlaysPerHost?: Record<string, number>
  notes: string[]
}

export interface ScenarioSummary {
  name: ScenarioName
  hosts: number
  muster: Summary
  ansible: Summary
  /** muster / Ansible, of the medians. */
  ratio: number
  musterExecsPerHost: { min: number; max: number } | undefined
  musterExecsPerPlay: number | undefined
  ansibleExecsPerHost: { min: number; max: number } | undefined
  problems: string[]
}

function range(values: number[]): { min: number; max: number } | undefined {
  return values.length ? { min: Math.min(...values), max: Math.max(...values) } : undefined
}

export function summarizeScenario(s: ScenarioResult): ScenarioSummary {
  const m = summarize(s.muster.map((r) => r.wallMs))
  const a = summarize(s.ansible.map((r) => r.wallMs))
  const execs = s.muster[0]?.execs
  const perPlay =
    execs && s.musterPlaysPerHost ? Math.max(...Object.entries(execs).map(([h, n]) => n / (s.musterPlaysPerHost![h] ?? 1))) : undefined
  return {
    name: s.name,
    hosts: s.hosts,
    muster: m,
    ansible: a,
    ratio: ratio(m.median, a.median),
    musterExecsPerHost: execs ? range(Object.values(execs)) : undefined,
    musterExecsPerPlay: perPlay,
    ansibleExecsPerHost: s.ansibleExecs ? range(Object.values(s.ansibleExecs)) : undefined,
    problems: [...s.muster, ...s.ansible].flatMap((r) => r.problems.map((p) => `${r.tool}: ${p}`)).concat(s.notes),
  }
}

const span = (r: { min: number; max: number } | undefined): string => (r ? (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`) : '-')

export function scenarioRow(label: string, s: ScenarioSummary): string[] {
  return [
    `${label}: ${s.name}`,
    spreadSecs(s.muster),
    spreadSecs(s.ansible),
    num(s.ratio, 3),
    s.ratio > 0 ? `1/${num(1 / s.ratio, 1)}` : '-',
    span(s.musterExecsPerHost),
    s.musterExecsPerPlay === undefined ? '-' : num(s.musterExecsPerPlay, 2),
    span(s.ansibleExecsPerHost),
    String(Math.min(s.muster.n, s.ansible.n)),
  ]
}

export const SCENARIO_HEADER = [
  'scenario',
  'muster s median (min-max)',
  'Ansible s median (min-max)',
  'muster/Ansible',
  'as fraction',
  'muster execs/host',
  'muster execs/play',
  'Ansible execs/host',
  'runs',
]

/** A run that does not show what the scenario is about (a no-change run that changed, a failed run) is flagged. */
export function expectRun(run: ToolRun, want: 'changes' | 'no-change', label: string): void {
  const changed = Object.values(run.changed).reduce((s, n) => s + n, 0)
  const failed = Object.values(run.failed).reduce((s, n) => s + n, 0)
  if (failed > 0) run.problems.push(`${label}: ${failed} failed`)
  if (run.unreachable.length) run.problems.push(`${label}: unreachable ${run.unreachable.join(',')}`)
  if (want === 'no-change' && changed > 0) {
    run.problems.push(`${label}: ${changed} changed (${Object.entries(run.changed).filter(([, n]) => n > 0).map(([h, n]) => `${h}=${n}`).join(' ')})`)
  }
  if (want === 'changes' && changed === 0) run.problems.push(`${label}: changed nothing on a bare fleet`)
}

export { secs }
