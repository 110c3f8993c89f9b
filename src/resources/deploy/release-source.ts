import { execFileSync } from 'node:child_process'
import { existsSync, lutimesSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Options of `releaseSource()`: the app directory and where checkouts are cached. */
export interface ReleaseSourceOptions {
  /** The application's directory in its repository: used when no spec is given, and the path exported at a git ref. */
  app: string | URL
  /** Where exported refs are kept on the controller (default `.muster/sources`). */
  cacheDir?: string
}

/**
 * `--release DIR|GIT-REF` to a directory to build the release from: a
 * directory as it is, or the app's directory as it was at a commit, tag or
 * branch of its repository (`git archive`, cached by commit). The exported
 * files carry the time of the last commit that touched the app's directory
 * (what buildRelease reads from a clean checkout too), so the release id says
 * when its content was committed and its hash what it is: the same content
 * gives the same release whether named by a ref or found in the working tree.
 */
export function releaseSource(spec: string | undefined, opts: ReleaseSourceOptions): string {
  const app = resolve(opts.app instanceof URL ? fileURLToPath(opts.app) : opts.app)
  if (spec === undefined || spec === '') return app
  if (existsSync(spec)) {
    if (!statSync(spec).isDirectory()) throw new Error(`release ${spec}: not a directory (give the app's directory, or a git ref)`)
    return resolve(spec)
  }
  const git = (args: string[], cwd = app): string => execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  let top: string
  let prefix: string
  let commit: string
  try {
    top = git(['rev-parse', '--show-toplevel'])
    prefix = git(['rev-parse', '--show-prefix']).replace(/\/+$/, '')
  } catch (err) {
    throw new Error(`release ${spec}: no such directory, and ${app} is not in a git repository to find it as a ref (${firstLine(err)})`)
  }
  try {
    commit = git(['rev-parse', '--verify', '--quiet', `${spec}^{commit}`], top)
  } catch (err) {
    throw new Error(`release ${spec}: neither a directory nor a commit, tag or branch of ${top} (${firstLine(err)})`)
  }
  const cache = resolve(opts.cacheDir ?? '.muster/sources')
  const slug = prefix === '' ? 'root' : prefix.replace(/[^A-Za-z0-9._-]+/g, '_')
  const dest = join(cache, `${commit.slice(0, 12)}-${slug}`)
  if (existsSync(dest)) return dest
  mkdirSync(cache, { recursive: true })
  const work = mkdtempSync(join(cache, '.export-'))
  try {
    const tar = execFileSync('git', ['-C', top, 'archive', '--format=tar', commit, '--', prefix === '' ? '.' : prefix], { maxBuffer: 512 * 1024 * 1024 })
    execFileSync('tar', ['-x', '-C', work], { input: tar })
    const exported = prefix === '' ? work : join(work, prefix)
    if (!existsSync(exported)) throw new Error(`release ${spec}: ${prefix} does not exist at ${commit.slice(0, 12)}`)
    const touched = Number(git(['log', '-1', '--format=%ct', commit, '--', prefix === '' ? '.' : prefix], top))
    if (Number.isInteger(touched) && touched > 0) stamp(exported, touched)
    renameSync(exported, dest)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return dest
}

/** Every entry under `dir` (and `dir`) gets mtime `seconds`; symlinks themselves, not their targets. */
function stamp(dir: string, seconds: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) stamp(p, seconds)
    lutimesSync(p, seconds, seconds)
  }
  lutimesSync(dir, seconds, seconds)
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: Buffer | string; message?: string }
  const text = (e.stderr ? String(e.stderr) : '') || e.message || String(err)
  return text.trim().split('\n')[0] ?? ''
}
