import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The running muster, as a playbook's `import ... from 'muster'` must see it.
 * Built, this module sits in dist/ beside index.js and types/; from source
 * (muster's own tests) it is src/core/, one folder below index.ts.
 */
const fromSource = import.meta.url.endsWith('.ts')

/** The entry points: `muster`, `muster/deploy`, `muster/lab`, `muster/testing`, by the file they are built from. */
export const selfEntries = { muster: 'index', 'muster/deploy': 'deploy', 'muster/lab': 'lab', 'muster/testing': 'testing' } as const
export type SelfSpecifier = keyof typeof selfEntries

/** The module a playbook's `import ... from 'muster'` (or a subpath) is bound to at run time. */
export function selfModule(spec: SelfSpecifier): string {
  const name = selfEntries[spec]
  return fileURLToPath(fromSource ? new URL(`../${name}.ts`, import.meta.url) : new URL(`./${name}.js`, import.meta.url))
}

export const selfIndex = selfModule('muster')

/**
 * The types a playbook is checked against: the shipped declarations, or in a
 * checkout of muster (src/ beside dist/) the source itself, which is never stale.
 */
export function selfTypes(spec: SelfSpecifier = 'muster'): string {
  const name = selfEntries[spec]
  const source = fileURLToPath(fromSource ? new URL(`../${name}.ts`, import.meta.url) : new URL(`../src/${name}.ts`, import.meta.url))
  if (fromSource || existsSync(source)) return source
  return fileURLToPath(new URL(`./types/${name}.d.ts`, import.meta.url))
}
