import type { Prediction } from '../../contract/fact.ts'
import { change, ok, type Plan } from '../../contract/resource.ts'

/**
 * One resource made of several steps (a live value and the file that keeps it,
 * a link and a file): the steps that differ become one change, applied in the
 * order given, so a resource can put the step that may be refused (the live
 * value) before the one that makes it permanent. An unknown step makes the
 * whole unknown; a step's error is the resource's.
 *
 * `unchanged`: what the resource read, as it read it. The engine makes every
 * fact a change reads and does not predict unknown, so without these a change
 * of one step (a live mount) would leave the file of another (fstab) unknown
 * to every later resource in check mode. The steps' own predictions win.
 */
export function planSteps(steps: readonly { label?: string; plan: Plan }[], okDetail?: string, unchanged: readonly Prediction[] = []): Plan {
  const unknown = steps.find((s) => s.plan.kind === 'unknown')
  if (unknown && unknown.plan.kind === 'unknown') return unknown.plan
  const changes = steps.flatMap((s) => (s.plan.kind === 'change' ? [{ label: s.label, c: s.plan }] : []))
  if (changes.length === 0) return ok(okDetail)
  const diff = changes.find((x) => x.c.diff !== undefined)?.c.diff
  return change(
    changes.map((x) => (x.label ? `${x.label}: ${x.c.summary}` : x.c.summary)).join(', '),
    async (ctx) => {
      for (const x of changes) await x.c.apply(ctx)
    },
    { ...(diff !== undefined ? { diff } : {}), predicts: [...unchanged, ...changes.flatMap((x) => x.c.predicts ?? [])] },
  )
}
