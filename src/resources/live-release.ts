import { predict } from '../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import type { PathState } from '../facts/path.ts'
import { releasePaths } from './release.ts'
import { planSymlink } from './symlink.ts'
import { releaseState, type ReleaseState } from './deploy/release-state.ts'

/** Options of `liveRelease()`: where releases live and which unit runs `current`. */
export interface LiveReleaseOptions extends ResourceMeta {
  /** The deploy root (`/srv/app`). */
  root: string
  /** The service that runs `<root>/current` (default app.service). */
  unit?: string
}

/**
 * Once a host is deployed, `<root>/current` names the release its service
 * runs: `muster deploy` and `muster rollback` switch the link and restart the
 * service together. A `current` that names another release than the running
 * one was changed by hand (or by a deploy cut off between the two): drift,
 * which apply fixes by pointing `current` back at the release the service
 * runs, the one that was deployed and is serving, with no restart. A host not
 * deployed yet, or whose service is stopped, has nothing to compare: ok.
 */
export function liveRelease(opts: LiveReleaseOptions): Resource {
  const unit = opts.unit ?? 'app.service'
  const q = releaseState(opts.root, unit)
  return resource({
    id: `live-release:${releasePaths(opts.root).current}`,
    type: 'live-release',
    probe: { state: q },
    plan: ({ state }) => planLiveRelease(opts.root, unit, state as ReleaseState),
    meta: opts,
  })
}

/** Pure: compare what `current` names with what the service runs. */
export function planLiveRelease(root: string, unit: string, s: ReleaseState): Plan {
  const paths = releasePaths(root)
  if (s.currentTarget === null) return ok('no release deployed yet')
  const current = s.current ?? s.currentTarget
  if (s.running.pid === 0) return ok(`current -> ${current}; ${unit} is not running`)
  const running = s.running.release
  if (running === null) return ok(`current -> ${current}; ${unit} does not run from ${paths.releases}`)
  if (s.current === running) return ok(`release ${running} live`)
  if (!s.releases.some((r) => r.id === running && r.complete)) {
    throw new Error(`current -> ${current} but ${unit} runs ${running}, which is no longer whole on this host: deploy a release (muster deploy)`)
  }
  const target = releasePaths(root, running).release!
  const have: PathState = { type: 'symlink', target: s.currentTarget, owner: 'root', group: 'root', mtime: Number.NaN }
  const link = planSymlink(paths.current, target, {}, false, have)
  if (link.kind !== 'change') return link
  const after: ReleaseState = { ...s, current: running, currentTarget: target }
  return change(`current -> ${current} but ${unit} runs ${running}: point current back at ${running}`, link.apply, {
    predicts: [...(link.predicts ?? []), predict(releaseState(root, unit), after)],
  })
}
