import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { UsageError } from '../core/errors.ts'

/**
 * tsx runs TypeScript without checking types, so a playbook with a wrong
 * option would run. Before loading, muster type-checks the playbook (and all it
 * imports) with TypeScript's compiler; the verdict is cached by a hash of the
 * project's .ts files, so an unchanged project costs one directory walk.
 */
export function typecheckPlaybook(file: string, cacheDir: string): void {
  const path = resolve(file)
  const root = projectRoot(dirname(path))
  const key = hashSources(root)
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

function hashSources(root: string): string {
  const h = createHash('sha256')
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue
      const p = join(dir, name)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else if (/\.(ts|mts|cts|ejs|json)$/.test(name)) h.update(`${p}\0${st.size}\0${st.mtimeMs}\0`)
    }
  }
  walk(root)
  return h.digest('hex')
}
