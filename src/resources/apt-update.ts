import { change, ok, resource, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { predict, predictUnder } from '../contract/fact.ts'
import { pathStat, type PathStat } from '../facts/path.ts'
import { shell } from '../facts/shell.ts'
import { aptCandidateFact } from '../facts/apt-candidate.ts'
import { aptInstallableFact } from '../facts/apt-installable.ts'

/** Options of `aptUpdate()`: how old the package lists may be before they are refreshed. */
export interface AptUpdateOptions extends ResourceMeta {
  /** Refresh the package lists when they are older than this (default 3600). */
  maxAgeSeconds?: number
}

/**
 * apt-get update writes its downloads through lists/partial on every run, so
 * that directory's mtime is the time of the last update; the apply touches it
 * as well, to be sure. pkgcache.bin (absent where apt's cache is disabled, as
 * in containers) counts too. Both are read without hashing (pathStat): only
 * their mtimes matter, and hashing pkgcache.bin cost ~100 ms a probe.
 */
const STAMP = '/var/lib/apt/lists/partial'
const CACHE = '/var/cache/apt/pkgcache.bin'
/** The host's clock, not the controller's: the stamp's mtime is the host's. */
const NOW = 'date +%s'

/**
 * Refresh the package lists when they are older than `maxAgeSeconds`, or
 * absent. Reports a change only when it runs the update.
 */
export function aptUpdate(opts: AptUpdateOptions = {}): Resource {
  const maxAge = opts.maxAgeSeconds ?? 3600
  if (!Number.isFinite(maxAge) || maxAge < 0) throw new Error(`aptUpdate: maxAgeSeconds must be a number >= 0, got ${maxAge}`)
  return resource({
    id: 'apt-update',
    type: 'apt-update',
    probe: { stamp: pathStat(STAMP), cache: pathStat(CACHE), now: shell(NOW) },
    meta: opts,
    plan({ stamp, cache, now }) {
      const clock = Number(now.stdout.trim())
      if (now.code !== 0 || !Number.isFinite(clock)) throw new Error(`apt-update: cannot read the host's clock (\`${NOW}\` exited ${now.code})`)
      const last = Math.max(mtimeOf(stamp), mtimeOf(cache))
      const age = Math.round(clock - last)
      const update = (why: string) =>
        change(`update package lists (${why})`, async (ctx) => {
          await ctx.run(`DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120 && touch ${STAMP}`)
        }, {
          predicts: [
            // apt creates partial/ as 0700 _apt:root; one that exists keeps its mode and owner
            predict(pathStat(STAMP), stamp.type === 'directory' ? { ...stamp, mtime: clock } : { type: 'directory', mode: '0700', owner: '_apt', group: 'root', mtime: clock }),
            predict(pathStat(CACHE), cache),
            predict(shell(NOW), now),
            // fresh lists may bring other candidates: every `latest` after this is unknown until applied
            predictUnder(aptCandidateFact, '', 'the package lists are refreshed first'),
            // a package the current lists lack may be in the refreshed ones: not "no such package" yet
            predictUnder(aptInstallableFact, '', 'the package lists are refreshed first', (before) =>
              before.state === 'missing' && before.candidate === null ? { state: 'lists-refreshing' as const } : before,
            ),
          ],
        })
      if (last === 0) return update('no package lists yet')
      if (age > maxAge) return update(`last updated ${age}s ago, max ${maxAge}s`)
      return ok(`updated ${Math.max(age, 0)}s ago`)
    },
  })
}

function mtimeOf(p: PathStat): number {
  return p.type === 'absent' ? 0 : p.mtime
}
