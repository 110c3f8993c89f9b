import { createHash } from 'node:crypto'
import { predict, unknown, type Prediction } from '../../contract/fact.ts'
import { change, ok, resource, type ApplyContext, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { aptCandidate } from '../../facts/apt-candidate.ts'
import { aptInstallable } from '../../facts/apt-installable.ts'
import { assertPackageName } from '../../facts/apt-package.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { planFile } from '../file.ts'
import { writeFileAtomic } from '../write-file.ts'

/** The repository's signing key: armored text, or a URL whose content must hash to `sha256`. */
export type AptKey = { inline: string } | { url: string; sha256: string; fetch?: 'host' | 'controller' }

/** Options of `aptRepository()`: the deb822 source (URIs, suites, components) and its signing key, inline or from a URL pinned by sha256. */
export interface AptRepositoryOptions extends ResourceMeta {
  uris: string | readonly string[]
  suites: readonly string[]
  /** Omit for a flat repository (its one suite ends in `/`). */
  components?: readonly string[]
  architectures?: readonly string[]
  key: AptKey
  /**
   * Packages you will install from it. In check mode, before the repository
   * exists, their candidates are unknown (not "none"), so `apt(name, { state: 'latest' })`
   * after it says "unknown until applied" instead of failing; `apt(name)` plans "install" either way.
   */
  packages?: readonly string[]
}

const PEM = /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n[\s\S]+\n-----END PGP PUBLIC KEY BLOCK-----\n?$/

/**
 * A third-party apt repository the deb822 way: its key in /etc/apt/keyrings
 * and a `.sources` file in /etc/apt/sources.list.d that names it in
 * `Signed-By`. Only when either changes are apt's lists refreshed, and only
 * this repository's (apt-get update with just this source, errors fatal).
 * If that refresh fails (a wrong key, an unreachable or broken repository) the
 * key and the source go back to what they were, so a bad repository never stays
 * to break every later `apt-get update` on the host.
 */
export function aptRepository(name: string, opts: AptRepositoryOptions): Resource {
  const id = `apt-repository:${name}`
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new Error(`${id}: a name is lowercase letters, digits, _ and -`)
  const uris = typeof opts.uris === 'string' ? [opts.uris] : [...opts.uris]
  for (const u of uris) if (!/^(https?|file):\/?\/?[^\s]+$/.test(u)) throw new Error(`${id}: ${JSON.stringify(u)} is not an http(s) or file URI`)
  const words = (what: string, list: readonly string[] | undefined, need: boolean): void => {
    if (need && (!list || list.length === 0)) throw new Error(`${id}: give at least one of ${what}`)
    for (const w of list ?? []) if (!/^[A-Za-z0-9._/~+-]+$/.test(w)) throw new Error(`${id}: ${what}: ${JSON.stringify(w)} is not one`)
  }
  words('suites', opts.suites, true)
  words('components', opts.components, false)
  words('architectures', opts.architectures, false)
  opts.packages?.forEach(assertPackageName)
  const key = opts.key
  let keyPath: string
  if ('inline' in key) {
    if (typeof key.inline !== 'string' || !PEM.test(key.inline.trim() + '\n')) throw new Error(`${id}: key.inline must be an ASCII-armored public key block`)
    keyPath = `/etc/apt/keyrings/${name}.asc`
  } else {
    if (!/^https?:\/\/\S+$/.test(key.url)) throw new Error(`${id}: key.url must be an http(s) URL`)
    if (!/^[0-9a-f]{64}$/.test(key.sha256)) throw new Error(`${id}: key.sha256 must be 64 lowercase hex digits`)
    keyPath = `/etc/apt/keyrings/${name}.${key.url.endsWith('.gpg') ? 'gpg' : 'asc'}`
  }
  const sourcesPath = `/etc/apt/sources.list.d/${name}.sources`
  const sources = [
    'Types: deb',
    `URIs: ${uris.join(' ')}`,
    `Suites: ${opts.suites.join(' ')}`,
    ...(opts.components?.length ? [`Components: ${opts.components.join(' ')}`] : []),
    ...(opts.architectures?.length ? [`Architectures: ${opts.architectures.join(' ')}`] : []),
    `Signed-By: ${keyPath}`,
  ].join('\n') + '\n'
  const { uris: _u, suites: _s, components: _c, architectures: _a, key: _k, packages, ...meta } = opts
  return resource({
    id,
    type: 'apt-repository',
    probe: { key: pathState(keyPath), sources: pathState(sourcesPath) },
    plan: (o) => planAptRepository(name, { key, keyPath, sourcesPath, sources: Buffer.from(sources), packages: packages ?? [] }, o.key, o.sources),
    meta,
  })
}

export interface RepoSpec {
  key: AptKey
  keyPath: string
  sourcesPath: string
  sources: Buffer
  packages: readonly string[]
}

const root = { mode: '0644', owner: 'root', group: 'root' }

export function planAptRepository(name: string, spec: RepoSpec, key: PathState, sources: PathState): Plan {
  const k = spec.key
  const keyPlan: Plan =
    'inline' in k
      ? planFile({ path: spec.keyPath, bytes: Buffer.from(k.inline.trim() + '\n'), ...root }, key)
      : key.type === 'file' && key.sha256 === k.sha256 && key.mode === '0644'
        ? ok()
        : change(key.type === 'absent' ? 'create' : 'content', async () => {}, {
            predicts: [predict(pathState(spec.keyPath), { type: 'file', ...root, size: Number.NaN, mtime: Number.NaN, sha256: k.sha256 })],
          })
  const sourcesPlan = planFile({ path: spec.sourcesPath, bytes: spec.sources, ...root }, sources)
  if (keyPlan.kind === 'unknown') return keyPlan
  if (sourcesPlan.kind === 'unknown') return sourcesPlan
  if (keyPlan.kind === 'ok' && sourcesPlan.kind === 'ok') return ok(`${spec.sourcesPath}, key ${spec.keyPath}`)
  const parts = [
    ...(keyPlan.kind === 'change' ? [`key ${spec.keyPath}: ${keyPlan.summary}`] : []),
    ...(sourcesPlan.kind === 'change' ? [`${spec.sourcesPath}: ${sourcesPlan.summary}`] : []),
    'refresh its lists',
  ]
  // as aptUpdate predicts: the lists will be refreshed, so apt() after it plans "install" instead of "no such package"
  const offered: Prediction[] = spec.packages.flatMap((p) => [
    predict(aptCandidate(p), unknown(`offered by apt repository ${name} once its lists are fetched`)),
    predict(aptInstallable(p), { state: 'lists-refreshing' as const, offeredBy: name }),
  ])
  return change(parts.join(', '), (ctx) => applyRepository(ctx, name, spec, keyPlan.kind === 'change', sourcesPlan.kind === 'change'), {
    ...(sourcesPlan.kind === 'change' && sourcesPlan.diff !== undefined ? { diff: sourcesPlan.diff } : {}),
    predicts: [...(keyPlan.kind === 'change' ? (keyPlan.predicts ?? []) : []), ...(sourcesPlan.kind === 'change' ? (sourcesPlan.predicts ?? []) : []), ...offered],
  })
}

/** The shell that sets the old key and source aside, and the one that puts them back (or removes what was new). */
export const keepAside = (paths: readonly string[]): string =>
  paths.map((p) => sh`if [ -e ${p} ]; then cp -p -- ${p} ${`${p}.muster-prev`}; else rm -f -- ${`${p}.muster-prev`}; fi`).join('\n')
export const putBack = (paths: readonly string[]): string =>
  paths.map((p) => sh`if [ -e ${`${p}.muster-prev`} ]; then mv -f -- ${`${p}.muster-prev`} ${p}; else rm -f -- ${p}; fi`).join('\n')
export const dropAside = (paths: readonly string[]): string => paths.map((p) => sh`rm -f -- ${`${p}.muster-prev`}`).join('\n')

/** Only this repository's lists, errors fatal (a bad signature is an error, not a warning). */
export const refreshCommand = (sourcesPath: string): string =>
  sh`apt-get update -q -o ${`Dir::Etc::sourcelist=${sourcesPath}`} -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 --error-on=any`

async function applyRepository(ctx: ApplyContext, name: string, spec: RepoSpec, keyChanged: boolean, sourcesChanged: boolean): Promise<void> {
  const paths = [spec.keyPath, spec.sourcesPath]
  await ctx.run(`install -d -m 0755 /etc/apt/keyrings\n${keepAside(paths)}`)
  try {
    if (keyChanged) await writeKey(ctx, spec)
    if (sourcesChanged) await writeFileAtomic(ctx, spec.sourcesPath, spec.sources, root)
    await ctx.run(refreshCommand(spec.sourcesPath), { timeoutMs: 300_000 })
  } catch (err) {
    await ctx.run(putBack(paths))
    throw new Error(`apt repository ${name}: ${err instanceof Error ? err.message : String(err)}\n(the key and the source are back as they were)`)
  }
  await ctx.run(dropAside(paths))
}

async function writeKey(ctx: ApplyContext, spec: RepoSpec): Promise<void> {
  const k = spec.key
  if ('inline' in k) return writeFileAtomic(ctx, spec.keyPath, Buffer.from(k.inline.trim() + '\n'), root)
  if (k.fetch === 'controller') {
    const res = await fetch(k.url)
    if (!res.ok) throw new Error(`key ${k.url}: HTTP ${res.status}`)
    const bytes = Buffer.from(await res.arrayBuffer())
    const got = createHash('sha256').update(bytes).digest('hex')
    if (got !== k.sha256) throw new Error(`key ${k.url}: sha256 ${got}, not the pinned ${k.sha256}`)
    return writeFileAtomic(ctx, spec.keyPath, bytes, root)
  }
  // on the host: into a temp file beside the keyring, checked, then renamed
  await ctx.run(
    [
      'set -eu',
      `t=$(mktemp ${sh`${`${spec.keyPath}.muster-XXXXXX`}`})`,
      `trap 'rm -f -- "$t"' EXIT`,
      `curl -fsSL --max-time 60 -o "$t" -- ${sh`${k.url}`}`,
      `got=$(sha256sum < "$t" | cut -d' ' -f1)`,
      `if [ "$got" != ${sh`${k.sha256}`} ]; then echo "key ${k.url.replace(/["$`\\]/g, '')}: sha256 $got, not the pinned ${k.sha256}" >&2; exit 1; fi`,
      'chmod 0644 "$t"',
      `mv -fT -- "$t" ${sh`${spec.keyPath}`}`,
    ].join('\n'),
  )
}
