/**
 * The reference stack's converged figures on each Debian release the lab
 * boots, side by side: the same four hosts booted from Debian 13's base image,
 * then from Debian 12's, each converged once (untimed), then muster's
 * no-change apply and converged check, alternating, `runs` times each. muster
 * alone: the stack bench compares it with Ansible; this one asks whether a
 * release costs muster more.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suiteRelease, type LabSuite } from '../src/lab/suite.ts'
import { repoRoot, runMuster, warmMuster } from './tools/muster.ts'
import { ensureFleet } from './lib/lab.ts'
import { expectRun } from './lib/scenario.ts'
import { summarize, type Summary } from './lib/stats.ts'
import { formatTable, secs } from './lib/table.ts'

const PLAYBOOK = join(repoRoot, 'playbooks/site.ts')
const INVENTORY = join(repoRoot, 'inventory/lab.ts')

export interface ReleaseRow {
  suite: LabSuite
  release: string
  noChange: Summary
  check: Summary
  /** exec channels per host in a no-change run (min-max) */
  execsPerHost: { min: number; max: number } | undefined
  problems: string[]
}

export interface ReleaseBenchResult {
  kind: 'releases'
  rows: ReleaseRow[]
}

export async function runReleaseBench(opts: { runs: number; suites: readonly LabSuite[]; log: (l: string) => void }): Promise<ReleaseBenchResult> {
  const rows: ReleaseRow[] = []
  for (const suite of opts.suites) {
    const work = mkdtempSync(join(tmpdir(), `muster-bench-${suite}-`))
    try {
      const stateDir = join(work, 'state')
      await ensureFleet(4, opts.log, suite)
      await warmMuster(PLAYBOOK)
      const converge = await runMuster({ mode: 'apply', playbook: PLAYBOOK, inventory: INVENTORY, stateDir })
      opts.log(`releases: ${suite}: converged (untimed) in ${secs(converge.wallMs)} s, exit ${converge.code}`)
      const problems = converge.code === 0 ? [] : [`converging on ${suite} exited ${converge.code}${converge.tail ? `: ${converge.tail}` : ''}`]
      const noChange: number[] = []
      const check: number[] = []
      let execs: Record<string, number> | undefined
      for (let i = 0; i < opts.runs; i++) {
        const a = await runMuster({ mode: 'apply', playbook: PLAYBOOK, inventory: INVENTORY, stateDir })
        expectRun(a, 'no-change', `${suite} no-change`)
        noChange.push(a.wallMs)
        execs ??= a.execs
        const c = await runMuster({ mode: 'check', playbook: PLAYBOOK, inventory: INVENTORY, stateDir })
        expectRun(c, 'no-change', `${suite} check`)
        check.push(c.wallMs)
        problems.push(...a.problems, ...c.problems)
        opts.log(`releases: ${suite} ${i + 1}/${opts.runs}: no-change ${secs(a.wallMs)} s, check ${secs(c.wallMs)} s`)
      }
      const e = execs ? Object.values(execs) : []
      rows.push({
        suite,
        release: suiteRelease[suite],
        noChange: summarize(noChange),
        check: summarize(check),
        execsPerHost: e.length ? { min: Math.min(...e), max: Math.max(...e) } : undefined,
        problems,
      })
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  return { kind: 'releases', rows }
}

export function releasesTable(r: ReleaseBenchResult): string {
  const spread = (s: Summary): string => `${secs(s.median)} s (${secs(s.min)}-${secs(s.max)}, n=${s.n})`
  return `Reference stack, converged, per Debian release (muster only; 4 lab hosts)\n${formatTable(
    ['release', 'no-change apply', 'check (converged)', 'execs/host', 'problems'],
    r.rows.map((row) => [
      `${row.release} (${row.suite})`,
      spread(row.noChange),
      spread(row.check),
      row.execsPerHost ? (row.execsPerHost.min === row.execsPerHost.max ? String(row.execsPerHost.min) : `${row.execsPerHost.min}-${row.execsPerHost.max}`) : '-',
      row.problems.length ? row.problems.join('; ') : '-',
    ]),
  )}`
}
