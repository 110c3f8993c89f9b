import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { UsageError } from '../core/errors.ts'
import { cacheDir } from '../core/cache-dir.ts'
import { selfEntries, selfTypes, type SelfSpecifier } from '../core/self.ts'

/**
 * esbuild compiles without checking types, so a playbook with a wrong option
 * would run. Before loading, muster type-checks the playbook (and all it
 * imports) with TypeScript's compiler; the verdict is cached under `key`, the
 * stamp of the playbook's sources and of the running muster, so an unchanged
 * playbook is not checked again.
 *
 * The check needs nothing from the user's project: `'muster'` means the
 * running muster's own types (as at run time it means the running muster), and
 * Node's types come from muster's own dependencies. So a global install checks
 * a playbook in a directory with no package.json at all.
 */
export function typecheckPlaybook(file: string, key: string): void {
  const path = resolve(file)
  const dir = join(cacheDir(path), 'typecheck')
  const verdicts = join(dir, 'verdicts.json')
  let cache: Record<string, string> = {}
  try {
    cache = JSON.parse(readFileSync(verdicts, 'utf8')) as Record<string, string>
  } catch {
    cache = {} // no cache yet, or an unreadable one: check again
  }
  if (cache[path] === key) return

  const require = createRequire(import.meta.url)
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc')
  mkdirSync(dir, { recursive: true })
  const config = join(dir, `${createHash('sha256').update(path).digest('hex').slice(0, 16)}.tsconfig.json`)
  writeFileSync(config, JSON.stringify(tsconfigFor(path, require)))
  const res = spawnSync(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: process.cwd(), encoding: 'utf8' })
  if (res.status !== 0) {
    const out = (res.stdout + res.stderr).trim().split('\n').slice(0, 20).join('\n')
    throw new UsageError(`${relative(process.cwd(), path)} does not type-check:\n${out}`)
  }
  cache[path] = key
  writeFileSync(verdicts, JSON.stringify(cache))
}

/** A tsconfig of muster's own: the user's tsconfig may target anything, or be missing. */
function tsconfigFor(path: string, require: NodeJS.Require): object {
  const typesRoot = dirname(dirname(require.resolve('@types/node/package.json')))
  return {
    compilerOptions: {
      noEmit: true,
      strict: true,
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [typesRoot],
      paths: Object.fromEntries(Object.keys(selfEntries).map((s) => [s, [selfTypes(s as SelfSpecifier)]])),
    },
    files: [path],
  }
}
