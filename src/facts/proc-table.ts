import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertHostPath } from './path.ts'

/** The first column of every line of a kernel table (/proc/modules, /proc/swaps), in order, or null where the file cannot be read. */
export type ProcTable = readonly string[] | null

const MARK = '\x1e'

/**
 * One shell loop reads every table of the batch, with builtins only (`read`
 * and a parameter expansion print each line's first word): no process at all,
 * however many keys. A table that cannot be read prints no marker and reads
 * as null. The key is the file, so a test can point a resource at a stand-in
 * table (a lab host shares the machine's kernel, whose /proc/modules and
 * /proc/swaps are not the host's to change).
 */
function script(keys: readonly string[]): string {
  keys.forEach((k) => assertHostPath(k, 'a kernel table'))
  return [
    `for f in ${sh`${keys}`}; do`,
    `  if [ -r "$f" ]; then printf '\\036%s\\n' "$f"; while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "\${l%%[ \t]*}"; done < "$f"; fi`,
    'done; true',
  ].join('\n')
}

function parse(stdout: string, keys: readonly string[]): Map<string, ProcTable> {
  const tables = new Map<string, string[]>()
  let current: string[] | null = null
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      current = []
      tables.set(line.slice(1), current)
    } else if (current && line !== '') current.push(line)
  }
  return new Map(keys.map((k) => [k, tables.get(k) ?? null]))
}

export const procTableFact: FactKind<ProcTable> = { name: 'proc-table', coalesce: true, script, parse: (stdout, keys) => parse(stdout, keys) }

/** The first column of a kernel table such as /proc/modules (loaded modules) or /proc/swaps (active swap areas, after its header). */
export function procTable(file: string): FactQuery<ProcTable> {
  return query(procTableFact, assertHostPath(file, 'a kernel table'))
}
