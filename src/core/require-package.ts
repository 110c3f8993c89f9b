import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

/**
 * The CommonJS packages muster loads on every run, each from one file the
 * build bundled (scripts/build.mjs writes dist/vendor/NAME.cjs), or from
 * node_modules when there is no such file (running from src/ under tsx).
 *
 * Why: Node's CommonJS loader resolves, stats, reads and compiles a package
 * file by file (ssh2 and yargs are ~60 files with their dependencies), and
 * that costs more CPU than compiling the same code as one file: over a bare
 * `node`, ssh2 47 -> 35 ms, yargs 24 -> 12, ejs 7 -> 4 (bench/HISTORY.md). The
 * bundles are the very packages in node_modules, built at the same time as
 * dist/; native parts (ssh2's crypto binding, cpu-features) still load from
 * node_modules.
 */
/** Package name -> its bundle's name; the build's `vendored` table (scripts/build.mjs) must be the same (unit-tested). */
export const VENDORED = { ssh2: 'ssh2', ejs: 'ejs', 'yargs/yargs': 'yargs', yaml: 'yaml', diff: 'diff' } as const

export type VendoredPackage = keyof typeof VENDORED

// a local require (not the global): esbuild would turn a bare `require` into a shim that throws in ESM
const requireHere = createRequire(import.meta.url)
let bundled: boolean | undefined

/** `require(name)`, from its bundle beside this module when the build made one. */
export function requirePackage(name: VendoredPackage): unknown {
  bundled ??= existsSync(new URL('./vendor/', import.meta.url))
  return requireHere(bundled ? `./vendor/${VENDORED[name]}.cjs` : name)
}
