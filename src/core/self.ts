import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The running muster, as a playbook's `import ... from 'muster'` must see it.
 * Built, this module sits in dist/ beside index.js and types/; from source
 * (muster's own tests) it is src/core/, one folder below index.ts.
 */
const fromSource = import.meta.url.endsWith('.ts')

/** The module a playbook's `'muster'` is bound to at run time. */
export const selfIndex = fileURLToPath(fromSource ? new URL('../index.ts', import.meta.url) : new URL('./index.js', import.meta.url))

/**
 * The types a playbook is checked against: the shipped declarations, or in a
 * checkout of muster (src/ beside dist/) the source itself, which is never stale.
 */
export function selfTypes(): string {
  const source = fileURLToPath(fromSource ? new URL('../index.ts', import.meta.url) : new URL('../src/index.ts', import.meta.url))
  if (fromSource || existsSync(source)) return source
  return fileURLToPath(new URL('./types/index.d.ts', import.meta.url))
}
