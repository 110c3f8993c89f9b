import { ok, resource, type Resource } from '../../contract/resource.ts'
import { factId, predict } from '../../contract/fact.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { releasePaths } from '../release.ts'

/**
 * For a provisioning role that installs the app's first release: the
 * resource does its work only while the host has no `<root>/current`. Once
 * one exists, releases belong to `muster deploy` (with its drain, health
 * checks and rollback), and a later provisioning run must not switch the
 * host back to the release the role was written with.
 */
export function untilDeployed(root: string, r: Resource): Resource {
  const current = pathState(releasePaths(root).current)
  return resource({
    id: r.id,
    type: r.type,
    probe: { ...r.probe, __current: current },
    plan(observed) {
      const { __current: cur, ...own } = observed as Record<string, unknown> & { __current: PathState }
      if (cur.type !== 'absent') return ok(`${releasePaths(root).current} exists: releases are deployed with \`muster deploy\``)
      const plan = r.plan(own as never)
      // check mode: a change that does not say what becomes of `current` leaves it as it is (the
      // engine would otherwise make it unknown for every step after, the link's own step included)
      if (plan.kind !== 'change' || plan.predicts?.some((p) => 'query' in p && factId(p.query) === factId(current))) return plan
      return { ...plan, predicts: [...(plan.predicts ?? []), predict(current, cur)] }
    },
    meta: { notify: r.notify, tags: r.tags },
  })
}
