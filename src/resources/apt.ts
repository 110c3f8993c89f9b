import { change, ok, resource, type ApplyContext, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { predict, type FactQuery, type Prediction } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { aptPackage, assertPackageName, type AptPackageState } from '../facts/apt-package.ts'
import { aptCandidate, type AptCandidate } from '../facts/apt-candidate.ts'
import { aptInstallable, type AptInstallable } from '../facts/apt-installable.ts'
import { inPackageTable, installPredictions, packageClosure, removePredictions, type VersionHint } from './package-provides.ts'

/** Options of `apt()`: present (optionally at a version, without recommends) or absent. */
export type AptOptions = (
  | { state?: 'present'; version?: string; installRecommends?: boolean }
  | { state: 'latest'; installRecommends?: boolean }
  | { state: 'absent' }
) &
  ResourceMeta

type Probe = Record<`pkg:${string}`, FactQuery<AptPackageState>> &
  Record<`cand:${string}`, FactQuery<AptCandidate>> &
  Record<`avail:${string}`, FactQuery<AptInstallable>>

/** Every install and remove: no prompts, wait for another apt instead of failing, keep local conffiles. */
const APT_GET = sh`DEBIAN_FRONTEND=noninteractive apt-get -y -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`

/**
 * A dpkg run killed midway (an apply interrupted) leaves a journal in
 * /var/lib/dpkg/updates and apt refuses to work until `dpkg --configure -a`;
 * finish that first, only when there is something to finish. (Should another
 * dpkg be running at that very moment, this fails loudly rather than wait.)
 */
const FINISH_INTERRUPTED =
  'if [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; then DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold --configure -a; fi'

/**
 * Debian packages: present (optionally at a version), latest, or absent. One
 * resource may name several packages; the missing ones are installed by ONE
 * apt-get call, and the summary names exactly the packages that change.
 * `latest` also reads apt's candidate (one `apt-cache policy` for the batch);
 * `present` reads it only for the packages that are not installed (in the
 * same probe: see apt-installable.ts), so a converged check stays cheap and
 * a name apt does not know fails at check, not at apply.
 */
export function apt(names: string | readonly string[], opts: AptOptions = {}): Resource<Probe> {
  const list = (typeof names === 'string' ? [names] : [...names]).map(assertPackageName)
  if (list.length === 0) throw new Error('apt: no package named')
  if (new Set(list).size !== list.length) throw new Error(`apt: a package is named twice in ${list.join(', ')}`)
  const state = opts.state ?? 'present'
  const version = 'version' in opts ? opts.version : undefined
  if (version !== undefined && list.length > 1) throw new Error(`apt ${list.join(',')}: a version pins one package; name it alone`)
  const recommends = 'installRecommends' in opts ? opts.installRecommends : undefined
  const wantsCandidate = state === 'latest'
  // a pinned version is apt's to refuse; a plain install must name a package apt has
  const wantsInstallable = state === 'present' && version === undefined

  const probe = {} as Record<string, FactQuery<unknown>>
  for (const n of list) {
    probe[`pkg:${n}`] = aptPackage(n)
    if (wantsCandidate) probe[`cand:${n}`] = aptCandidate(n)
    if (wantsInstallable) probe[`avail:${n}`] = aptInstallable(n)
  }
  // The companions an install brings (nginx brings nginx-common) are read too, in
  // the same dpkg-query: one already on the host keeps its files as they are, and
  // its maintainer scripts' first-install work (nginx-common's default site) is
  // not done again, so check mode must not predict it.
  const companions = state === 'absent' ? [] : [...new Set(list.flatMap((n) => packageClosure(n).slice(1)))].filter((c) => !list.includes(c))
  for (const c of companions) probe[`pkg:${c}`] = aptPackage(c)
  // which edition of the package table describes an install: the host's release, for when apt cannot say
  // the version yet (no lists before the first update); read in the same dpkg-query as the packages
  const releaseHint = state !== 'absent' && list.some(inPackageTable) && !list.includes('base-files')
  if (releaseHint) probe['pkg:base-files'] = aptPackage('base-files')
  const id = `apt:${list.join(',')}`

  return resource({
    id,
    type: 'apt',
    probe: probe as Probe,
    meta: opts,
    plan(observed) {
      const pkg = (n: string): AptPackageState => observed[`pkg:${n}`]
      const before: Record<string, AptPackageState> = {}
      for (const n of [...list, ...companions]) if (observed[`pkg:${n}`] !== undefined) before[n] = pkg(n)
      const cand = (n: string): AptCandidate => observed[`cand:${n}`]

      if (state === 'absent') {
        const remove = list.filter((n) => ['installed', 'broken'].includes(pkg(n).state))
        if (remove.length === 0) return ok(`${list.join(', ')} not installed`)
        return change(`remove ${remove.join(', ')}`, (ctx) => runApt(ctx, `${APT_GET} remove ${sh`${remove}`}`), {
          predicts: remove.flatMap((n): Prediction[] => [
            predict(aptPackage(n), removedState(pkg(n))),
            ...removePredictions(n, versionOf(pkg(n))),
          ]),
        })
      }

      const installs: { name: string; target: string; why: string; version: string | null }[] = []
      for (const n of list) {
        const p = pkg(n)
        if (state === 'latest') {
          const c = cand(n)
          if (c.candidate === null) {
            throw new Error(`${id}: apt has no installation candidate for ${n} (unknown package, or the package lists need an update)`)
          }
          if (p.state !== 'installed') installs.push({ name: n, target: n, why: `install ${n}`, version: c.candidate })
          // a null version is a prediction of an install at the candidate of that moment: latest by definition
          else if (p.version !== null && p.version !== c.candidate) {
            installs.push({ name: n, target: n, why: `upgrade ${n} ${p.version} -> ${c.candidate}`, version: c.candidate })
          }
        } else if (version !== undefined) {
          if (p.state !== 'installed') installs.push({ name: n, target: `${n}=${version}`, why: `install ${n} ${version}`, version })
          else if (p.version !== version) {
            installs.push({ name: n, target: `${n}=${version}`, why: `install ${n} ${version} (has ${p.version ?? 'a candidate'})`, version })
          }
        } else if (p.state !== 'installed') {
          noSuchPackage(n, p, observed[`avail:${n}`])
          installs.push({ name: n, target: n, why: p.state === 'broken' ? `install ${n} (dpkg: ${p.status})` : `install ${n}`, version: null })
        }
      }
      if (installs.length === 0) return ok(list.map((n) => `${n} ${versionOf(pkg(n)) ?? ''}`.trim()).join(', '))

      const flags = [
        ...(recommends === true ? ['--install-recommends'] : recommends === false ? ['--no-install-recommends'] : []),
        // a pinned version may be older than the installed one
        ...(version !== undefined ? ['--allow-downgrades'] : []),
      ]
      const targets = installs.map((i) => i.target)
      return change(
        summarize(installs),
        (ctx) => runApt(ctx, [APT_GET, ...flags, 'install', sh`${targets}`].join(' ')),
        {
          predicts: installs.flatMap((i): Prediction[] => [
            predict(aptPackage(i.name), { state: 'installed', version: i.version, arch: i.name.split(':')[1] ?? null, held: false }),
            ...(wantsInstallable ? [predict(aptInstallable(i.name), { state: 'installed' })] : []),
            ...(pkg(i.name).state === 'installed' ? [] : installPredictions(i.name, { states: before, ...versionHint(i.version, observed[`avail:${i.name}`], observed['pkg:base-files']) })),
          ]).concat(
            // read for the edition only: an install leaves the release as it was (unpredicted, it would read unknown after)
            releaseHint ? [predict(aptPackage('base-files'), observed['pkg:base-files'])] : [],
          ),
        },
      )
    },
  })
}

/** What the host says of the version an install brings: the one asked for, else apt's candidate; and its release. */
function versionHint(asked: string | null, avail: AptInstallable | undefined, baseFiles: AptPackageState | undefined): VersionHint {
  const release = baseFiles?.state === 'installed' ? baseFiles.version : null
  if (asked !== null) return { candidate: asked, baseFiles: release }
  if (avail?.state === 'missing') return { candidate: avail.candidate, baseFiles: release }
  if (avail?.state === 'lists-refreshing' && avail.offeredBy !== undefined) return { candidate: null, offeredBy: avail.offeredBy, baseFiles: release }
  return { candidate: null, baseFiles: release }
}

/**
 * A package dpkg does not have (or has only as config files) that apt has no
 * candidate for cannot be installed: the resource fails at check, as apply
 * would. A broken (half-installed) package is apt's to finish from dpkg's own
 * record, candidate or not.
 */
function noSuchPackage(name: string, p: AptPackageState, a: AptInstallable): void {
  if (p.state === 'broken' || a.state !== 'missing' || a.candidate !== null) return
  throw new Error(`no such package: apt has no installation candidate for ${name} (a misspelt name, or the package lists need an update)`)
}

/** "install nginx, haproxy; upgrade curl 1 -> 2": plain installs together, the rest one by one. */
function summarize(installs: readonly { name: string; why: string }[]): string {
  const plain = installs.filter((i) => i.why === `install ${i.name}`).map((i) => i.name)
  const rest = installs.filter((i) => i.why !== `install ${i.name}`).map((i) => i.why)
  return [...(plain.length > 0 ? [`install ${plain.join(', ')}`] : []), ...rest].join('; ')
}

/** After `apt-get remove` dpkg keeps the package's conffiles; whether it had any only matters to purge. */
function removedState(p: AptPackageState): AptPackageState {
  const v = versionOf(p)
  return v === null ? { state: 'not-installed' } : { state: 'config-files', version: v }
}

function versionOf(p: AptPackageState): string | null {
  return p.state === 'not-installed' ? null : p.version
}

async function runApt(ctx: ApplyContext, command: string): Promise<void> {
  await ctx.run(`${FINISH_INTERRUPTED}\n${command}`)
}
