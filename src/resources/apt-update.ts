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
 * apt-get update writes its downloads through lists/partial and renames them
 * into lists/, so the newer of those two directories' mtimes is the time of
 * the last update that fetched anything; the apply touches partial/ as well,
 * for an update that found every index unchanged. pkgcache.bin does not count:
 * any apt-cache or apt-get call rebuilds it when it is missing or older than
 * the lists, check's own probe included, so its mtime says when apt last read
 * the lists, not when they were fetched (a host whose lists were two days old
 * looked fresh to the apply right after check had read them).
 */
const STAMP = '/var/lib/apt/lists/partial'
const LISTS = '/var/lib/apt/lists'
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
    probe: { stamp: pathStat(STAMP), lists: pathStat(LISTS), now: shell(NOW) },
    meta: opts,
    plan({ stamp, lists, now }) {
      const clock = Number(now.stdout.trim())
      if (now.code !== 0 || !Number.isFinite(clock)) throw new Error(`apt-update: cannot read the host's clock (\`${NOW}\` exited ${now.code})`)
      const last = Math.max(mtimeOf(stamp), mtimeOf(lists))
      const age = Math.round(clock - last)
      const update = (why: string) =>
        change(`update package lists (${why})`, async (ctx) => {
          await ctx.run(`DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120 && touch ${STAMP}`)
        }, {
          predicts: [
            // apt creates partial/ as 0700 _apt:root; one that exists keeps its mode and owner
            predict(pathStat(STAMP), stamp.type === 'directory' ? { ...stamp, mtime: clock } : { type: 'directory', mode: '0700', owner: '_apt', group: 'root', mtime: clock }),
            // lists/ is newer only if the mirror's indexes changed; either way the touched partial/ is the newer of the two
            predict(pathStat(LISTS), lists),
            predict(shell(NOW), now),
            // fresh lists may bring other candidates: every `latest` after this is unknown until applied
            predictUnder(aptCandidateFact, '', 'the package lists are refreshed first'),
            // a package the current lists lack may be in the refreshed ones: not "no such package" yet
            predictUnder(aptInstallableFact, '', 'the package lists are refreshed first', (before) =>
              before.state === 'missing' && before.candidate === null ? { state: 'lists-refreshing' as const } : before,
            ),
          ],
        })
      // `rm -rf /var/lib/apt/lists/*` (as slim images do) takes partial/ with it and leaves lists/ freshly modified
      if (stamp.type === 'absent' || last === 0) return update('no package lists yet')
      if (age > maxAge) return update(`last updated ${age}s ago, max ${maxAge}s`)
      return ok(`updated ${Math.max(age, 0)}s ago`)
    },
  })
}

function mtimeOf(p: PathStat): number {
  return p.type === 'absent' ? 0 : p.mtime
}
