// Builds dist/ from src/: the CLI and the public API as plain ESM JavaScript,
// sharing chunks, so `npx muster` starts without a TypeScript loader and a
// playbook's `import ... from 'muster'` gets the very same module instances as
// the CLI that runs it; and with `--types`, the public API's declarations in
// dist/types/, which is what the published package's users type-check against.
// Run by `npm run build` and `prepare` (so by `npm pack`, with types), and by
// bin/muster.js in a checkout whenever src/ is newer than dist/ (without types:
// a checkout type-checks playbooks against src/ itself).
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync, rmSync, renameSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** The public entry points: `muster` and its subpaths. */
export const entries = { index: 'src/index.ts', deploy: 'src/deploy.ts', lab: 'src/lab.ts', testing: 'src/testing.ts' }

export async function buildDist({ types = false } = {}) {
  // build beside dist/ and swap it in, so a CLI starting meanwhile never sees half a build
  const outdir = `${root}dist.build-${process.pid}`
  rmSync(outdir, { recursive: true, force: true })
  await build({
    absWorkingDir: root,
    // the worker threads of --workers start from a file of their own; bin/muster.js loads early.js
    // (the ssh layer: a run's first handshakes) before cli.js
    entryPoints: { cli: 'src/cli/main.ts', early: 'src/cli/early.ts', 'run-worker': 'src/cli/run-worker.ts', ...entries },
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
  await buildVendor(`${outdir}/vendor`)
  mkdirSync(outdir, { recursive: true })
  if (types) emitTypes(`${outdir}/types`)
  writeFileSync(`${outdir}/.stamp`, `${Date.now()}\n`)
  const old = `${root}dist.old-${process.pid}`
  if (existsSync(`${root}dist`)) renameSync(`${root}dist`, old)
  renameSync(outdir, `${root}dist`)
  rmSync(old, { recursive: true, force: true })
}

/**
 * The CommonJS packages every run loads, each bundled into one file
 * (src/core/require-package.ts says why and loads them): Node's loader costs
 * more per package file than compiling one file of the same code. Native
 * parts stay outside and load from node_modules by their package path, as
 * the package itself would load them.
 */
export const vendored = { ssh2: 'ssh2', ejs: 'ejs', yargs: 'yargs/yargs', yaml: 'yaml', diff: 'diff' }

export async function buildVendor(outdir) {
  const require = createRequire(`${root}package.json`)
  const modules = `${root}node_modules/`
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(vendored).map(([name, spec]) => [name, require.resolve(spec)])),
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['cpu-features'],
    logLevel: 'warning',
    plugins: [
      {
        name: 'native-from-node-modules',
        setup(b) {
          // ssh2's crypto binding: required by its path inside the package, from wherever the package is installed
          b.onResolve({ filter: /\.node$/ }, (a) => {
            const file = join(a.resolveDir, a.path)
            if (!file.startsWith(modules)) throw new Error(`vendor: a native module outside node_modules: ${file}`)
            return { path: file.slice(modules.length), external: true }
          })
        },
      },
    ],
  })
}

/** Declarations of the public entry points and what they reach, nothing else (no CLI, no tests). */
function emitTypes(outDir) {
  const require = createRequire(import.meta.url)
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc')
  const args = [
    tsc, '--ignoreConfig', '--declaration', '--emitDeclarationOnly', '--outDir', outDir, '--rootDir', 'src',
    '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--allowImportingTsExtensions',
    '--strict', '--skipLibCheck', '--verbatimModuleSyntax', '--types', 'node', '--pretty', 'false',
    ...Object.values(entries),
  ]
  const res = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`declarations failed:\n${res.stdout}${res.stderr}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDist({ types: process.argv.includes('--types') })
