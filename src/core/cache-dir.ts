import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

/**
 * Where muster keeps what it can always rebuild (compiled playbooks and
 * inventories, type-check verdicts): never beside a user's file, which may sit
 * in a directory the user does not own (/etc/muster/hosts.ts) or in a checkout
 * that should stay clean.
 *
 * In order: `MUSTER_CACHE_DIR`; `node_modules/.cache/muster` of the project
 * (the nearest package.json with a node_modules) holding the file, or else
 * holding the working directory; else the user's cache directory
 * (`$XDG_CACHE_HOME/muster`, `~/.cache/muster`). A compiled module imports the
 * packages it names from where it is cached, so inside a project they resolve
 * from the project's node_modules.
 */
export function cacheDir(forFile?: string): string {
  if (process.env.MUSTER_CACHE_DIR) return resolve(process.env.MUSTER_CACHE_DIR)
  const project = (forFile && projectModules(dirname(resolve(forFile)))) ?? projectModules(process.cwd())
  if (project) return join(project, '.cache', 'muster')
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'muster')
}

/** The node_modules of the nearest project (a directory with package.json) at or above `dir`. */
function projectModules(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) {
      const nm = join(d, 'node_modules')
      return existsSync(nm) ? nm : undefined
    }
    if (dirname(d) === d) return undefined
  }
}
