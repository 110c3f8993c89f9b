// Packs one reference role directory (roles/NAME) as its own npm package,
// @muster-roles/NAME: its TypeScript, templates and files as they are, muster
// as a peer dependency, an export per top-level module (index.ts as ".").
// muster compiles such a package with the playbook that imports it.
//   node scripts/pack-role.mjs roles/mysql [out-dir]   -> prints the tarball's path
// A role that imports a sibling role (`../mysql/index.ts`) imports its package
// instead (`@muster-roles/mysql`), a dependency of the same version; any other
// import outside the role's directory is refused, naming the import.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'

export function packRole(roleDir, outDir = process.cwd()) {
  const dir = resolve(roleDir)
  const name = basename(dir)
  const modules = readdirSync(dir).filter((f) => f.endsWith('.ts'))
  const siblings = new Set()
  const rewritten = new Map()
  for (const m of modules) {
    const source = readFileSync(join(dir, m), 'utf8')
    const outside = [...source.matchAll(/from '(\.\.\/[^']+)'/g)].map((x) => x[1]).filter((spec) => !/^\.\.\/[a-z0-9-]+\/[a-z0-9-]+\.ts$/.test(spec))
    if (outside.length) throw new Error(`${roleDir}/${m} imports ${outside.join(', ')}: a role package holds everything it imports (or names another package)`)
    rewritten.set(m, source.replace(/from '\.\.\/([a-z0-9-]+)\/([a-z0-9-]+)\.ts'/g, (_, role, mod) => {
      siblings.add(role)
      return `from '@muster-roles/${role}${mod === 'index' ? '' : `/${mod}`}'`
    }))
  }
  const staging = mkdtempSync(join(tmpdir(), `muster-role-${name}-`))
  try {
    cpSync(dir, staging, { recursive: true })
    for (const [m, source] of rewritten) writeFileSync(join(staging, m), source)
    const muster = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    const exportsMap = Object.fromEntries(modules.map((m) => [m === 'index.ts' ? '.' : `./${m.replace(/\.ts$/, '')}`, `./${m}`]))
    writeFileSync(join(staging, 'package.json'), `${JSON.stringify({
      name: `@muster-roles/${name}`,
      version: muster.version,
      description: `The ${name} role of muster's reference stack`,
      type: 'module',
      exports: exportsMap,
      peerDependencies: { muster: `>=${muster.version}` },
      ...(siblings.size ? { dependencies: Object.fromEntries([...siblings].sort().map((r) => [`@muster-roles/${r}`, muster.version])) } : {}),
    }, null, 2)}\n`)
    const out = execFileSync('npm', ['pack', '--pack-destination', resolve(outDir), '--loglevel=error'], { cwd: staging, encoding: 'utf8' })
    return join(resolve(outDir), out.trim().split('\n').pop())
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  console.log(packRole(process.argv[2] ?? 'roles/mysql', process.argv[3]))
}
