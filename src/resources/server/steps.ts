import { change, ok, type Plan } from '../../contract/resource.ts'

/**
 * One resource made of several steps (a live value and the file that keeps it,
 * a link and a file): the steps that differ become one change, applied in the
 * order given, so a resource can put the step that may be refused (the live
 * value) before the one that makes it permanent. An unknown step makes the
 * whole unknown; a step's error is the resource's.
 */
export function planSteps(steps: readonly { label?: string; plan: Plan }[], okDetail?: string): Plan {
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
    { ...(diff !== undefined ? { diff } : {}), predicts: changes.flatMap((x) => x.c.predicts ?? []) },
  )
}
