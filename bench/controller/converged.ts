import type { Recap } from '../../src/engine/events.ts'

/** Hosts whose recap is not "converged" (exactly `resources` ok, nothing else), each with why; empty when all are. */
export function convergedProblems(recap: Recap, resources: number): string[] {
  const problems: string[] = []
  for (const [name, h] of Object.entries(recap.hosts)) {
    if (h.unreachable) problems.push(`${name}: unreachable`)
    else if (h.ok !== resources || h.changed || h.failed || h.unknown || h.skipped) {
      problems.push(`${name}: ok=${h.ok} changed=${h.changed} failed=${h.failed} unknown=${h.unknown} skipped=${h.skipped}`)
    }
  }
  return problems
}
