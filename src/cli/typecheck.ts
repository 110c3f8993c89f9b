import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { UsageError } from '../core/errors.ts'

/**
 * tsx runs TypeScript without checking types, so a playbook with a wrong
 * option would run. Before loading, muster type-checks the playbook (and all it
 * imports) with TypeScript's compiler; the verdict is cached under `key`, the
 * stamp of the playbook's sources and of the running muster, so an unchanged
 * playbook is not checked again.
 */
export function typecheckPlaybook(file: string, cacheDir: string, key: string): void {
  const path = resolve(file)
  const root = projectRoot(dirname(path))
  const cacheFile = join(cacheDir, 'typecheck.json')
  let cache: Record<string, string> = {}
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, string>
  } catch {
    cache = {} // no cache yet, or an unreadable one: check again
  }
  if (cache[path] === key) return

  const require = createRequire(import.meta.url)
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc')
  const args = [
    tsc,
    '--ignoreConfig',
    '--noEmit',
    '--pretty',
    'false',
    '--strict',
    '--target',
    'es2022',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--allowImportingTsExtensions',
    '--skipLibCheck',
    '--types',
    'node',
    path,
  ]
  const res = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
  if (res.status !== 0) {
    const out = (res.stdout + res.stderr).trim().split('\n').slice(0, 20).join('\n')
    throw new UsageError(`${relative(process.cwd(), path)} does not type-check:\n${out}`)
  }
  mkdirSync(cacheDir, { recursive: true })
  cache[path] = key
  writeFileSync(cacheFile, JSON.stringify(cache))
}

function projectRoot(dir: string): string {
  let d = dir
  for (;;) {
    if (existsSync(join(d, 'package.json'))) return d
    const up = dirname(d)
    if (up === d) return dir
    d = up
  }
}
