// Packs one reference role directory (roles/NAME) as its own npm package,
// @muster-roles/NAME: its TypeScript, templates and files as they are, muster
// as a peer dependency, an export per top-level module (index.ts as ".").
// muster compiles such a package with the playbook that imports it.
//   node scripts/pack-role.mjs roles/mysql [out-dir]   -> prints the tarball's path
// A role that imports another role's files (../app/...) is not self-contained
// and is refused, naming the import.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'

export function packRole(roleDir, outDir = process.cwd()) {
  const dir = resolve(roleDir)
  const name = basename(dir)
  const modules = readdirSync(dir).filter((f) => f.endsWith('.ts'))
  for (const m of modules) {
    const outside = [...readFileSync(join(dir, m), 'utf8').matchAll(/from '(\.\.\/[^']+)'/g)].map((x) => x[1])
    if (outside.length) throw new Error(`${roleDir}/${m} imports ${outside.join(', ')}: a role package holds everything it imports (or names another package)`)
  }
  const staging = mkdtempSync(join(tmpdir(), `muster-role-${name}-`))
  try {
    cpSync(dir, staging, { recursive: true })
    const muster = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    const exportsMap = Object.fromEntries(modules.map((m) => [m === 'index.ts' ? '.' : `./${m.replace(/\.ts$/, '')}`, `./${m}`]))
    writeFileSync(join(staging, 'package.json'), `${JSON.stringify({
      name: `@muster-roles/${name}`,
      version: muster.version,
      description: `The ${name} role of muster's reference stack`,
      type: 'module',
      exports: exportsMap,
      peerDependencies: { muster: `>=${muster.version}` },
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
