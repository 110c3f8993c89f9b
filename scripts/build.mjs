// Builds dist/ from src/: the CLI and the public API as plain ESM JavaScript,
// sharing chunks, so `npx muster` starts without a TypeScript loader and a
// playbook's `import ... from 'muster'` gets the very same module instances as
// the CLI that runs it. Run by `npm run build`, by `prepare` on install, and
// by bin/muster.js whenever src/ is newer than dist/.
import { build } from 'esbuild'
import { mkdirSync, writeFileSync, rmSync, renameSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

export async function buildDist() {
  // build beside dist/ and swap it in, so a CLI starting meanwhile never sees half a build
  const outdir = `${root}dist.build-${process.pid}`
  rmSync(outdir, { recursive: true, force: true })
  await build({
    absWorkingDir: root,
    entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  })
  mkdirSync(outdir, { recursive: true })
  writeFileSync(`${outdir}/.stamp`, `${Date.now()}\n`)
  const old = `${root}dist.old-${process.pid}`
  if (existsSync(`${root}dist`)) renameSync(`${root}dist`, old)
  renameSync(outdir, `${root}dist`)
  rmSync(old, { recursive: true, force: true })
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDist()
