import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { cacheDir } from './cache-dir.ts'
import { registerBundle } from './user-frames.ts'
import { selfEntries, selfIndex, selfModule, type SelfSpecifier } from './self.ts'

/**
 * Import a user's TypeScript module (a playbook, an inventory) without a
 * TypeScript loader in the process: the module and everything it imports
 * relatively is compiled once with esbuild into one ESM file, cached by the
 * mtimes and sizes of its inputs. A warm start costs a stat per input file.
 *
 * - `import ... from 'muster'` (and `muster/deploy`, `muster/lab`) is bound to the running muster itself, so the
 *   playbook's resources, secrets and errors are the CLI's own classes.
 * - `import.meta.url` keeps meaning the source file, so
 *   `new URL('./templates/x.ejs', import.meta.url)` finds the template.
 * - Other packages stay imports, resolved from the project's node_modules
 *   (the cache lives in node_modules/.cache/muster when there is one: see
 *   cacheDir).
 */
export class ModuleLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message)
    this.name = 'ModuleLoadError'
  }
}

interface CacheEntry {
  out: string
  inputs: [string, number, number][]
}

export interface CompiledModule {
  /** The compiled ESM file. */
  out: string
  /** Every source file it was built from, with mtime and size. */
  inputs: [string, number, number][]
  /** Changes whenever a source file, or the running muster, changes: a key for caches about this module. */
  stamp: string
}

/** The source files of every module this process compiled or found compiled, with mtime and size. */
const loadedInputs = new Map<string, [string, number, number]>()

/** What the user's modules loaded so far were built from: a change to any of these may change what a run does. */
export function compiledInputs(): [string, number, number][] {
  return [...loadedInputs.values()]
}

/** Compile (or find in the cache) a TypeScript module and everything it imports relatively. */
export async function compileTsModule(file: string): Promise<CompiledModule> {
  const path = resolve(file)
  const dir = join(cacheDir(path), 'modules')
  // `map1`: bundles from before source maps were written are not reused
  const key = createHash('sha256').update(`${path}\0${selfIndex}\0map1`).digest('hex').slice(0, 20)
  const indexFile = join(dir, `${key}.json`)
  let entry = readEntry(indexFile)
  if (!entry || !fresh(entry)) entry = await compile(path, join(dir, `${key}.mjs`), indexFile)
  for (const input of entry.inputs) loadedInputs.set(input[0], input)
  let self = ''
  try {
    self = String(statSync(selfIndex).mtimeMs)
  } catch {
    self = selfIndex // not on disk as a file (cannot happen outside tests): key by its path alone
  }
  const stamp = createHash('sha256').update(JSON.stringify(entry.inputs)).update(self).digest('hex').slice(0, 16)
  return { ...entry, stamp }
}

export async function importCompiled(m: CompiledModule): Promise<Record<string, unknown>> {
  // its frames are mapped to the user's .ts files when an error is shown (user-frames.ts), not on every stack
  registerBundle(m.out)
  return (await import(`${pathToFileURL(m.out).href}?v=${m.stamp}`)) as Record<string, unknown>
}

export async function importTsModule(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file)
  if (/\.(m?js|cjs)$/.test(path)) return (await import(pathToFileURL(path).href)) as Record<string, unknown>
  return importCompiled(await compileTsModule(path))
}

function readEntry(indexFile: string): CacheEntry | undefined {
  try {
    return JSON.parse(readFileSync(indexFile, 'utf8')) as CacheEntry
  } catch {
    return undefined // no cache yet: compile
  }
}

function fresh(entry: CacheEntry): boolean {
  if (!existsSync(entry.out)) return false
  for (const [p, mtime, size] of entry.inputs) {
    try {
      const st = statSync(p)
      if (st.mtimeMs !== mtime || st.size !== size) return false
    } catch {
      return false
    }
  }
  return true
}

async function compile(path: string, out: string, indexFile: string): Promise<CacheEntry> {
  const { build } = await import('esbuild')
  let result
  try {
    result = await build({
      entryPoints: [path],
      outfile: out,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: true,
      metafile: true,
      // errors thrown in the user's code point at their .ts file and line (user-frames.ts maps the stack)
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'muster-self',
          setup(b) {
            b.onResolve({ filter: /^muster(\/[a-z]+)?$/ }, (args) =>
              Object.hasOwn(selfEntries, args.path) ? { path: selfModule(args.path as SelfSpecifier), external: true } : undefined,
            )
            // every other package is imported at run time from the project's node_modules, except
            // role packages (a peer dependency on muster): TypeScript like the playbook, compiled with it
            b.onResolve({ filter: /^[^./]/ }, (args) =>
              args.kind === 'entry-point' || isRolePackage(args.path, args.resolveDir) ? undefined : { path: args.path, external: true },
            )
            b.onLoad({ filter: /\.[mc]?ts$/ }, (args) => {
              const url = JSON.stringify(pathToFileURL(args.path).href)
              const src = readFileSync(args.path, 'utf8').replace(/\bimport\.meta\.url\b/g, url).replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path))).replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
              return { contents: src, loader: 'ts' }
            })
          },
        },
      ],
    })
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors
    const text = errors?.length
      ? errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join('\n')
      : (err as Error).message
    throw new ModuleLoadError(path, text)
  }
  const inputs: [string, number, number][] = Object.keys(result.metafile.inputs)
    .map((p) => resolve(p))
    .filter((p) => p !== selfIndex)
    .map((p) => {
      const st = statSync(p)
      return [p, st.mtimeMs, st.size]
    })
  const entry: CacheEntry = { out, inputs }
  mkdirSync(dirname(indexFile), { recursive: true })
  writeFileSync(indexFile, JSON.stringify(entry))
  return entry
}

const rolePackages = new Map<string, boolean>()
/** Whether `specifier` names a package, installed above `dir`, that declares muster as a peer dependency. */
function isRolePackage(specifier: string, dir: string): boolean {
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!
  for (let d = dir; ; d = dirname(d)) {
    const manifest = join(d, 'node_modules', name, 'package.json')
    if (existsSync(manifest)) {
      let known = rolePackages.get(manifest)
      if (known === undefined) {
        try {
          known = Boolean((JSON.parse(readFileSync(manifest, 'utf8')) as { peerDependencies?: Record<string, string> }).peerDependencies?.muster)
        } catch {
          known = false
        }
        rolePackages.set(manifest, known)
      }
      return known
    }
    if (dirname(d) === d) return false
  }
}
