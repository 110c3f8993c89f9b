import { createHash } from 'node:crypto'
import { execFile, execFileSync } from 'node:child_process'
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { predict } from '../contract/fact.ts'
import { change, ok, resource, type ApplyContext, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { sh } from '../core/sh.ts'
import { cacheDir } from '../core/cache-dir.ts'
import { pathState, assertHostPath, type PathState } from '../facts/path.ts'
import { symlink } from './symlink.ts'

/**
 * A release: an application directory with its dependencies installed, built
 * ONCE on the controller into a tarball and unpacked on each host under
 * `<root>/releases/<id>`. The id says what it is: `<time>-<content hash>`,
 * where the hash covers every file of the source (its lockfile included, so
 * the dependencies too) and the time is the source's last commit when it is a
 * clean git checkout, else its newest file. The same content always gets the
 * same id, so a host that has a release is never sent it again.
 */
export interface ReleaseOptions {
  /** The application's directory (a path or a file: URL). */
  source: string | URL
  /**
   * Command run in a copy of the source before it is packed (argv, no shell).
   * Default: `npm ci --omit=dev` when the source has a package-lock.json. `false`: ship the files as they are.
   */
  build?: readonly string[] | false
  /** Names left out of the hash and the copy, at any depth (default node_modules and .git). */
  exclude?: readonly string[]
  /** Where built tarballs are kept on the controller (default `.muster/releases` in the working directory). */
  cacheDir?: string
}

/** A built release: its content-addressed id and its tarball, made once per run. */
export interface Release {
  /** `20260101T120000Z-0123456789ab` */
  readonly id: string
  /** sha256 of the source tree (hex). */
  readonly hash: string
  readonly time: Date
  /** Absolute path of the source directory. */
  readonly source: string
  /** What the host keeps in `<release>/.muster-release.json`; its hash proves the release arrived whole. */
  readonly manifest: string
  /** The tarball on the controller, built on first use (once per run, whatever the number of hosts). */
  artifact(): Promise<string>
}

/** The file in every release dir that says which release it is. */
export const RELEASE_MANIFEST = '.muster-release.json'

const built = new Map<string, Release>()

/** Describe (and, on first need, build) the release of `opts.source`. Cheap: hashing only (milliseconds for an app's own files); the build waits for a host that needs it. */
export function buildRelease(opts: ReleaseOptions): Release {
  const source = resolve(opts.source instanceof URL ? fileURLToPath(opts.source) : opts.source)
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new Error(`release source ${source} is not a directory`)
  const exclude = new Set(opts.exclude ?? ['node_modules', '.git'])
  const build = opts.build ?? (existsSync(join(source, 'package-lock.json')) ? ['npm', 'ci', '--omit=dev', '--no-audit', '--no-fund'] : false)
  const cacheDir = resolve(opts.cacheDir ?? '.muster/releases')
  const { hash, time } = describeTree(source, exclude)
  const id = releaseId(time, hash)
  // hosts of one run share one Release, so the tarball is built once
  const key = JSON.stringify([source, id, [...exclude].sort(), build, cacheDir])
  const known = built.get(key)
  if (known) return known
  const manifest = `${JSON.stringify({ id, hash, time: time.toISOString(), source: basename(source) }, null, 2)}\n`
  let artifact: Promise<string> | undefined
  const rel: Release = {
    id,
    hash,
    time,
    source,
    manifest,
    artifact: () => (artifact ??= buildArtifact({ source, exclude, build, cacheDir, id, time, manifest })),
  }
  built.set(key, rel)
  return rel
}

/** A source's hash and time, kept while nothing under it (nor its git checkout's index and HEAD) changed. */
const described = new Map<string, { fingerprint: string; hash: string; time: Date }>()

/**
 * The source's content hash and time. Roles call buildRelease while they are
 * expanded, for every host of the play: hashing every file and asking git
 * twice (two blocking spawns) each time cost a 4-host check 85-270 ms with
 * the event loop blocked. Now a walk with lstat (sizes, times, modes, and the
 * git index and HEAD of the checkout) says whether anything changed since the
 * last call in this process; only then are the files hashed and git asked.
 */
function describeTree(source: string, exclude: ReadonlySet<string>): { hash: string; time: Date } {
  const files = listTree(source, exclude)
  const fingerprint = treeFingerprint(source, files)
  const key = JSON.stringify([source, [...exclude].sort()])
  const known = described.get(key) ?? readDescribed(key)
  if (known && known.fingerprint === fingerprint) {
    described.set(key, known)
    return known
  }
  const fresh = { fingerprint, hash: treeHash(source, files), time: sourceTime(source, files) }
  described.set(key, fresh)
  writeDescribed(key, fresh)
  return fresh
}

/**
 * The last description of a source, kept between runs in muster's cache
 * (cacheDir): a converged run then neither hashes the app nor spawns git
 * (~150 ms of a 4-host check on a loaded machine). The fingerprint (every
 * file's size, times and mode, and the checkout's index, HEAD and its log)
 * is stored as a sha256; anything that changes it describes the tree afresh.
 */
function describedFile(key: string): string {
  return join(cacheDir(), 'releases', `${createHash('sha256').update(key).digest('hex').slice(0, 20)}.json`)
}

function readDescribed(key: string): { fingerprint: string; hash: string; time: Date } | undefined {
  try {
    const d = JSON.parse(readFileSync(describedFile(key), 'utf8')) as { key: string; fingerprint: string; hash: string; time: string }
    if (d.key !== key || typeof d.hash !== 'string' || typeof d.time !== 'string') return undefined
    return { fingerprint: d.fingerprint, hash: d.hash, time: new Date(d.time) }
  } catch {
    return undefined // none yet, or unreadable: describe afresh
  }
}

function writeDescribed(key: string, d: { fingerprint: string; hash: string; time: Date }): void {
  const file = describedFile(key)
  try {
    mkdirSync(join(file, '..'), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify({ key, fingerprint: d.fingerprint, hash: d.hash, time: d.time.toISOString() }))
    renameSync(tmp, file)
  } catch {
    // a cache that cannot be written costs the next run the hashing, nothing else
  }
}

function treeFingerprint(root: string, files: readonly string[]): string {
  const parts: string[] = [root]
  for (const rel of files) {
    const st = lstatSync(join(root, rel))
    parts.push(`${rel}\0${st.mode}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}`)
  }
  for (const f of gitStateFiles(root)) {
    try {
      const st = statSync(f)
      parts.push(`${f}\0${st.size}\0${st.mtimeMs}`)
    } catch {
      parts.push(`${f}\0-`)
    }
  }
  return createHash('sha256').update(parts.join('\n')).digest('hex')
}

/** The files a commit or checkout rewrites (index, HEAD, its log) of the git checkout holding `dir`, if any. */
function gitStateFiles(dir: string): string[] {
  for (let d = dir; ; d = resolve(d, '..')) {
    const dotGit = join(d, '.git')
    try {
      const st = lstatSync(dotGit)
      let gitDir = dotGit
      if (st.isFile()) {
        // a worktree: ".git" names its own git dir
        const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))
        if (m) gitDir = resolve(d, m[1]!.trim())
      }
      return [join(gitDir, 'index'), join(gitDir, 'HEAD'), join(gitDir, 'logs', 'HEAD')]
    } catch {
      // no .git here: try the parent
    }
    if (resolve(d, '..') === d) return []
  }
}

export function releaseId(time: Date, hash: string): string {
  return `${time.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')}-${hash.slice(0, 12)}`
}

/** Files, symlinks and directories under `root` (relative, sorted), without excluded names. */
function listTree(root: string, exclude: ReadonlySet<string>): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (exclude.has(name)) continue
      const full = join(dir, name)
      out.push(relative(root, full))
      if (lstatSync(full).isDirectory()) walk(full)
    }
  }
  walk(root)
  return out
}

/** Path, type, executable bit and content of every entry: what the release is, not when it was touched. */
export function treeHash(root: string, files: readonly string[]): string {
  const h = createHash('sha256')
  for (const rel of files) {
    const full = join(root, rel)
    const st = lstatSync(full)
    if (st.isSymbolicLink()) h.update(`l ${rel} ${readlinkSync(full)}\n`)
    else if (st.isDirectory()) h.update(`d ${rel}\n`)
    else if (st.isFile()) h.update(`f ${rel} ${st.mode & 0o111 ? 'x' : '-'} ${createHash('sha256').update(readFileSync(full)).digest('hex')}\n`)
  }
  return h.digest('hex')
}

/** The last commit touching a clean git checkout of the source; otherwise the newest file. */
function sourceTime(source: string, files: readonly string[]): Date {
  try {
    const dirty = execFileSync('git', ['-C', source, 'status', '--porcelain', '--', '.'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    if (dirty.trim() === '') {
      const ct = execFileSync('git', ['-C', source, 'log', '-1', '--format=%ct', '--', '.'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
      if (/^\d+$/.test(ct)) return new Date(Number(ct) * 1000)
    }
  } catch (err) {
    // not a git checkout (or no git): the files' own times say when
    if (!(err instanceof Error)) throw err
  }
  let newest = 0
  for (const rel of files) newest = Math.max(newest, lstatSync(join(source, rel)).mtimeMs)
  return new Date(Math.floor(newest / 1000) * 1000)
}

const run = promisify(execFile)

async function buildArtifact(o: {
  source: string
  exclude: ReadonlySet<string>
  build: readonly string[] | false
  cacheDir: string
  id: string
  time: Date
  manifest: string
}): Promise<string> {
  const out = join(o.cacheDir, `${o.id}.tar.gz`)
  if (existsSync(out)) return out
  mkdirSync(o.cacheDir, { recursive: true })
  const work = mkdtempSync(join(tmpdir(), 'muster-release-'))
  try {
    const app = join(work, 'app')
    cpSync(o.source, app, { recursive: true, verbatimSymlinks: true, filter: (src) => !o.exclude.has(basename(src)) || src === o.source })
    writeFileSync(join(app, 'RELEASE'), `${o.id}\n`)
    writeFileSync(join(app, RELEASE_MANIFEST), o.manifest)
    if (o.build) {
      try {
        await run(o.build[0]!, o.build.slice(1), { cwd: app, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_ENV: 'production' } })
      } catch (err) {
        const e = err as Error & { stderr?: string; stdout?: string }
        const tail = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim().split('\n').slice(-15).join('\n')
        throw new Error(`release ${o.id}: \`${o.build.join(' ')}\` failed in a copy of ${o.source}:\n${tail || e.message}`)
      }
    }
    // same bytes for the same tree: sorted, owned by root, times pinned, modes made readable
    const tmp = `${out}.${process.pid}.tmp`
    await run('tar', [
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mode=u+rwX,go+rX,go-w',
      `--mtime=@${Math.floor(o.time.getTime() / 1000)}`,
      '--use-compress-program=gzip -n',
      '-cf',
      tmp,
      '-C',
      app,
      '.',
    ])
    renameSync(tmp, out)
    return out
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- on the hosts

/** Where releases live under a deploy root. */
export function releasePaths(root: string, id?: string): { releases: string; current: string; shared: string; release: string | undefined } {
  assertHostPath(root, 'release root')
  const r = root.replace(/\/+$/, '')
  return { releases: `${r}/releases`, current: `${r}/current`, shared: `${r}/shared`, release: id === undefined ? undefined : `${r}/releases/${id}` }
}

/** Options of `releaseUpload()`: where releases live on the host. */
export interface ReleaseUploadOptions extends ResourceMeta {
  /** The deploy root: the release lands in `<root>/releases/<id>`. */
  root: string
}

/**
 * `rel` is unpacked on the host under `<root>/releases/<id>`. Present means its
 * manifest is there with the right hash; the directory only ever appears whole
 * (unpacked beside it, then renamed), so a cut upload leaves nothing that
 * passes for a release. Files belong to root and are read-only for the app.
 */
export function releaseUpload(rel: Release, opts: ReleaseUploadOptions): Resource<{ manifest: ReturnType<typeof pathState> }> {
  const paths = releasePaths(opts.root, rel.id)
  const marker = `${paths.release}/${RELEASE_MANIFEST}`
  return resource({
    id: `release:${paths.release}`,
    type: 'release',
    probe: { manifest: pathState(marker) },
    plan: ({ manifest }) => planUpload(rel, paths.releases, marker, manifest),
    meta: opts,
  })
}

export function planUpload(rel: Release, releasesDir: string, marker: string, have: PathState): Plan {
  const want = createHash('sha256').update(rel.manifest).digest('hex')
  if (have.type === 'file' && have.sha256 === want) return ok(`release ${rel.id} present`)
  const after: PathState = { type: 'file', mode: '0644', owner: 'root', group: 'root', size: Buffer.byteLength(rel.manifest), mtime: Number.NaN, sha256: want }
  const summary = have.type === 'absent' ? `upload release ${rel.id}` : `replace incomplete release ${rel.id}`
  return change(summary, (ctx) => uploadRelease(ctx, rel, releasesDir), { predicts: [predict(pathState(marker), after)] })
}

async function uploadRelease(ctx: ApplyContext, rel: Release, releasesDir: string): Promise<void> {
  const tarball = await rel.artifact()
  const bytes = await readFile(tarball)
  ctx.log(`uploading release ${rel.id} (${Math.round(bytes.length / 1024)} KiB)`)
  // the tarball is the unpacking command's stdin: one exec, no temp file on the host, and sudo-safe
  await ctx.run(unpackScript(releasesDir, rel.id), { stdin: bytes, timeoutMs: 10 * 60_000 })
}

/** Unpack stdin beside the target and rename into place; the trap removes a half-made stage. */
export function unpackScript(releasesDir: string, id: string): string {
  return [
    'set -eu',
    `rel=${sh`${releasesDir}`}`,
    `dest=${sh`${`${releasesDir}/${id}`}`}`,
    'stage=',
    `trap 'rc=$?; if [ -n "$stage" ]; then rm -rf -- "$stage"; fi; exit $rc' EXIT`,
    "trap 'exit 129' HUP INT TERM",
    'mkdir -p -- "$rel"',
    `stage=$(mktemp -d -- ${sh`${`${releasesDir}/.${id}.muster-XXXXXX`}`})`,
    'tar -xzf - -C "$stage" --no-same-owner',
    'chmod 0755 "$stage"',
    // a directory without a good manifest is a leftover, never a live release: replace it
    'if [ -e "$dest" ]; then rm -rf -- "$dest"; fi',
    'mv -T -- "$stage" "$dest"',
    'stage=',
  ].join('\n')
}

/** Options of `currentRelease()`: where releases live, and what to notify when `current` moves. */
export interface CurrentReleaseOptions extends ResourceMeta {
  root: string
}

/**
 * `<root>/current` points at the release: switched by renaming a new symlink
 * over the old one, so a reader sees the old release or the new, never none.
 */
export function currentRelease(rel: Release | string, opts: CurrentReleaseOptions) {
  const id = typeof rel === 'string' ? rel : rel.id
  const paths = releasePaths(opts.root, id)
  return symlink(paths.current, paths.release!, { ...(opts.notify ? { notify: opts.notify } : {}), ...(opts.tags ? { tags: opts.tags } : {}) })
}
