import { predict, predictUnder, unknown, type Prediction } from '../contract/fact.ts'
import { pathFact, pathState } from '../facts/path.ts'
import { aptPackage, type AptPackageState } from '../facts/apt-package.ts'
import { systemdUnit, type UnitState } from '../facts/systemd-unit.ts'
import { userState } from '../facts/user.ts'
import { groupState } from '../facts/group.ts'
import type { PackageEdition, PackageFacts, ProvidedUnit } from './packages/table.ts'
import { DEBIAN_12 } from './packages/debian12.ts'
import { DEBIAN_13 } from './packages/debian13.ts'

export type { PackageEdition, PackageFacts, ProvidedUnit, ProvidedUser } from './packages/table.ts'

/**
 * What installing a package brings into being, so that check mode can plan
 * the resources after an `apt` change against the host apply would produce
 * ("would update /etc/nginx/nginx.conf", not "would create" or a failure).
 *
 * The facts come from editions of one table, each verified against one
 * Debian release's packages (packages/debian12.ts, packages/debian13.ts).
 * Which edition a host gets is read from the host, never from a release
 * name: the version apt will install (its candidate, or the version pinned),
 * matched on the upstream version the edition was verified at; when apt
 * cannot say yet (no package lists before the first update), the release of
 * the host's base-files. A version no edition knows (a newer upstream, a
 * third-party repository) gets honest unknowns, never another version's bytes.
 */
export const PACKAGE_EDITIONS: readonly PackageEdition[] = [DEBIAN_12, DEBIAN_13]

/** What the host says about the version an install will bring. */
export interface VersionHint {
  /** The version apt will install: its candidate, or the one pinned. null: apt cannot say yet. */
  candidate?: string | null
  /** The repository that will offer the package once its lists are fetched (apt cannot say which version yet). */
  offeredBy?: string
  /** The host's base-files version (its Debian release), when known. */
  baseFiles?: string | null
}

/** "1:10.11.19-0+deb12u1" -> "10.11.19"; "5.8+1.1.0" (native) stays. */
export function upstreamOf(version: string): string {
  const noEpoch = version.replace(/^\d+:/, '')
  const dash = noEpoch.lastIndexOf('-')
  return dash > 0 ? noEpoch.slice(0, dash) : noEpoch
}

/** "10.11.19" -> "10.11": a stable release's point updates keep the series and, in practice, the conffiles. */
function seriesOf(version: string): string {
  return upstreamOf(version).split(/[.+~]/).slice(0, 2).join('.')
}

/**
 * The edition that describes `name` at the version the host will install:
 * the same upstream version; else the same series, of the host's own
 * release first (a point update since the table was verified); with no
 * version to go by, the host's release. Undefined: no edition can say.
 */
export function editionFor(name: string, hint: VersionHint = {}): PackageEdition | undefined {
  const bare = bareName(name)
  const having = PACKAGE_EDITIONS.filter((e) => e.table[bare] !== undefined)
  const release = hint.baseFiles ? baseFilesRelease(hint.baseFiles) : undefined
  const ofRelease = (list: readonly PackageEdition[]): PackageEdition | undefined => list.find((e) => e.baseFiles === release) ?? list[0]
  if (typeof hint.candidate === 'string') {
    const exact = having.filter((e) => upstreamOf(e.table[bare]!.verified) === upstreamOf(hint.candidate as string))
    if (exact.length > 0) return ofRelease(exact)
    const series = having.filter((e) => seriesOf(e.table[bare]!.verified) === seriesOf(hint.candidate as string))
    return series.length > 0 ? ofRelease(series) : undefined
  }
  if (hint.offeredBy !== undefined || release === undefined) return undefined
  return having.find((e) => e.baseFiles === release)
}

/** base-files "12.4+deb12u5" -> "12", "13.8" -> "13". */
export function baseFilesRelease(version: string): string {
  return upstreamOf(version).split('.')[0]!
}

/** Whether any edition knows the package (it is worth reading the host's hints for). */
export function inPackageTable(name: string): boolean {
  return PACKAGE_EDITIONS.some((e) => e.table[bareName(name)] !== undefined)
}

/** The state of a unit a package installed, started or not, enabled or not. */
export function installedUnit(id: string, u: ProvidedUnit): UnitState {
  return {
    id,
    loadState: 'loaded',
    activeState: u.running ? 'active' : 'inactive',
    subState: u.running ? 'running' : 'dead',
    unitFileState: u.enabled ? 'enabled' : 'disabled',
    activeEnterMonotonic: 0,
    mainPid: 0,
  }
}

export function missingUnit(id: string): UnitState {
  return { id, loadState: 'not-found', activeState: 'inactive', subState: 'dead', unitFileState: '', activeEnterMonotonic: 0, mainPid: 0 }
}

/** "nginx:amd64" -> "nginx"; the table and the guesses go by the bare name. */
function bareName(name: string): string {
  return name.split(':')[0]!
}

/**
 * Packages installed with `name`, itself included, companions of companions
 * too: in one edition, or (none given) in any, which is what a probe reads.
 */
export function packageClosure(name: string, edition?: PackageEdition): string[] {
  const editions = edition ? [edition] : PACKAGE_EDITIONS
  const out: string[] = []
  const visit = (n: string): void => {
    if (out.includes(n)) return
    out.push(n)
    for (const e of editions) for (const w of e.table[n]?.with ?? []) visit(w)
  }
  visit(bareName(name))
  return out
}

export interface InstallContext extends VersionHint {
  /** The package's conffiles may survive from an earlier install (dpkg state config-files): their content is not the default. */
  conffilesKept?: boolean
  /**
   * dpkg's state, before the install, of the package and its companions, as
   * probed. A companion already installed is left as it is: its files stay as
   * they are on the host and its maintainer scripts do not redo a first
   * install (nginx-common does not put the default site back when nginx is
   * installed again). One in config-files keeps its conffiles. A package
   * missing here is taken as not installed (conffiles: `conffilesKept`).
   */
  states?: Readonly<Record<string, AptPackageState>>
}

/**
 * Everything installing `name` brings into being, except the package's own
 * dpkg state (the apt resource predicts that, with the version it asked for).
 * A package outside the table gets honest unknowns: its /etc/<name>/ tree and
 * its <name>.service may or may not appear. So does one at a version no
 * edition was verified at, over everything any edition says it brings.
 */
export function installPredictions(name: string, ctx: InstallContext = {}): Prediction[] {
  const bare = bareName(name)
  if (!inPackageTable(bare)) return guessedInstall(bare)
  const edition = editionFor(bare, ctx)
  if (!edition) return unverifiedInstall(bare, ctx)
  const out: Prediction[] = []
  for (const pkg of packageClosure(bare, edition)) {
    const facts = edition.table[pkg]!
    const before = ctx.states?.[pkg] ?? (pkg === bare ? ctx.states?.[name] : undefined)
    if (pkg !== bare && before?.state === 'installed') continue
    const conffilesKept = before === undefined ? ctx.conffilesKept === true : before.state === 'config-files'
    if (pkg !== bare) out.push(predict(aptPackage(pkg), { state: 'installed', version: null, arch: null, held: false }))
    for (const [path, state] of Object.entries({ ...facts.paths, ...facts.created })) {
      if (before?.state === 'config-files' && facts.firstInstallOnly?.includes(path)) continue
      const kept = conffilesKept && path.startsWith('/etc/') && state.type === 'file'
      out.push(predict(pathState(path), kept ? unknown(`${path}: conffile kept from an earlier install of ${pkg}`) : state))
    }
    for (const [unit, u] of Object.entries(facts.units ?? {})) out.push(predict(systemdUnit(unit), installedUnit(unit, u)))
    for (const g of facts.groups ?? []) out.push(predict(groupState(g), { exists: true, gid: null, members: [] }))
    for (const [user, u] of Object.entries(facts.users ?? {})) {
      out.push(predict(userState(user), { exists: true, uid: null, gid: null, group: u.group, gecos: u.gecos, home: u.home, shell: u.shell, groups: [] }))
    }
  }
  return out
}

/** Everything any edition says installing `name` brings, as unknown: the version to be installed is one no edition describes. */
function unverifiedInstall(name: string, hint: VersionHint): Prediction[] {
  const why = hint.offeredBy !== undefined
    ? `${name} from apt repository ${hint.offeredBy}: a version muster's package table does not describe`
    : typeof hint.candidate === 'string'
      ? `${name} ${hint.candidate}: a version muster's package table was not verified against`
      : `${name}: apt cannot say yet which version it will install`
  const out = new Map<string, Prediction>()
  for (const e of PACKAGE_EDITIONS) {
    if (!e.table[name]) continue
    for (const pkg of packageClosure(name, e)) {
      const facts = e.table[pkg]!
      const add = (p: Prediction): void => void out.set('query' in p ? `${p.query.kind.name} ${p.query.key}` : String(out.size), p)
      if (pkg !== name) add(predict(aptPackage(pkg), unknown(why)))
      for (const path of Object.keys({ ...facts.paths, ...facts.created })) add(predict(pathState(path), unknown(why)))
      for (const unit of Object.keys(facts.units ?? {})) add(predict(systemdUnit(unit), unknown(why)))
      for (const g of facts.groups ?? []) add(predict(groupState(g), unknown(why)))
      for (const user of Object.keys(facts.users ?? {})) add(predict(userState(user), unknown(why)))
    }
  }
  return [...out.values()]
}

function guessedInstall(name: string): Prediction[] {
  const why = `may be created by package ${name}`
  // redis-server keeps /etc/redis, php8.2-fpm /etc/php: try the name without its role suffix too
  const stems = [...new Set([name, name.replace(/-(server|common|client|daemon|bin|core)$/, '')])]
  return stems.flatMap((stem) => [
    predictUnder(pathFact, `/etc/${stem}/`, why),
    predict(pathState(`/etc/${stem}`), unknown(why)),
    predict(pathState(`/usr/sbin/${stem}`), unknown(why)),
    predict(pathState(`/usr/bin/${stem}`), unknown(why)),
    predict(systemdUnit(`${stem}.service`), unknown(why)),
  ])
}

/**
 * What `apt-get remove` takes away: binaries and unit files go, the units with
 * them; conffiles, data and system users stay (that is what remove, as opposed
 * to purge, means). Companions stay installed.
 */
export function removePredictions(name: string, installed?: string | null): Prediction[] {
  const bare = bareName(name)
  const facts = editionFor(bare, { candidate: installed ?? null })?.table[bare]
  if (!facts) return [predict(systemdUnit(`${bare}.service`), unknown(`may be removed with package ${bare}`))]
  const out: Prediction[] = []
  for (const [path, state] of Object.entries(facts.paths ?? {})) {
    if (path.startsWith('/etc/') || state.type === 'directory') continue
    out.push(predict(pathState(path), { type: 'absent' }))
  }
  for (const unit of Object.keys(facts.units ?? {})) {
    // nginx's unit file lives in nginx-common, which stays: only a unit whose file goes is surely gone
    const ownsFile = [`/lib/systemd/system/${unit}`, `/usr/lib/systemd/system/${unit}`].some((f) => facts.paths?.[f] !== undefined)
    out.push(predict(systemdUnit(unit), ownsFile ? missingUnit(unit) : unknown(`${unit} after removing ${bare}`)))
  }
  return out
}
