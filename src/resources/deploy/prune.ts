import { change, ok, resource, type Resource } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { releasePaths } from '../release.ts'
import { releaseState, type ReleaseState } from './release-state.ts'

/** Options of `pruneReleases()`: where releases live and how many to keep. */
export interface PruneReleasesOptions {
  root: string
  /** Releases kept, newest arrivals first (default 5). `current`, `previous` and what the service runs are always kept besides. */
  keep?: number
  /** The live service, so the release it runs is never removed under it. */
  unit?: string
  tags?: readonly string[]
}

/** How many releases `pruneReleases()` keeps by default. */
export const DEFAULT_KEEP_RELEASES = 5

/** The release ids to remove: all but the `keep` newest, never current, previous or running. */
export function releasesToPrune(state: ReleaseState, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keepReleases must be a whole number of at least 1, got ${keep}`)
  const protect = new Set([state.current, state.previous, state.running.release].filter((x): x is string => x !== null))
  // state.releases is newest first
  return state.releases.slice(keep).map((r) => r.id).filter((id) => !protect.has(id))
}

/** Remove old releases beyond `keep`: each renamed aside first, so no half-removed directory ever looks like a release. */
export function pruneReleases(opts: PruneReleasesOptions): Resource {
  const keep = opts.keep ?? DEFAULT_KEEP_RELEASES
  const p = releasePaths(opts.root)
  return resource({
    id: `prune-releases:${opts.root}`,
    type: 'prune-releases',
    probe: { state: releaseState(opts.root, opts.unit) },
    plan({ state }) {
      const s = state as ReleaseState
      const victims = releasesToPrune(s, keep)
      if (victims.length === 0) return ok(`${s.releases.length} release(s), keeping up to ${keep}`)
      return change(`remove ${victims.length} old release(s), keeping ${keep}: ${victims.join(' ')}`, async (ctx) => {
        const lines = victims.map((id) => {
          const dir = releasePaths(opts.root, id).release!
          const aside = `${p.releases}/.${id}.muster-prune`
          return sh`mv -T -- ${dir} ${aside} && rm -rf -- ${aside}`
        })
        await ctx.run(['set -eu', ...lines].join('\n'), { timeoutMs: 300_000 })
      })
    },
    meta: opts.tags ? { tags: opts.tags } : {},
  })
}
