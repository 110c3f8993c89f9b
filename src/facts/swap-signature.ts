import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertHostPath } from './path.ts'

/** Whether a regular file holds a swap area (mkswap's `SWAPSPACE2` at the end of its first 4 KiB page), or null where there is no regular file. */
export type SwapSignature = boolean | null

const MARK = '\x1e'

/**
 * One `dd` per regular file of the batch reads the 10 bytes where mkswap puts
 * its signature (the end of the first page: 4096 bytes on amd64 and on most
 * arm64 Debian kernels). Anything else (absent, a directory, a symlink) prints
 * no marker and reads as null.
 */
function script(keys: readonly string[]): string {
  keys.forEach((k) => assertHostPath(k, 'a swap file'))
  return [
    `for f in ${sh`${keys}`}; do`,
    `  if [ -f "$f" ] && [ ! -L "$f" ]; then printf '\\036%s\\n' "$f"; dd if="$f" bs=1 skip=4086 count=10 2>/dev/null | tr -c 'A-Z0-9' '?'; echo; fi`,
    'done; true',
  ].join('\n')
}

function parse(stdout: string, keys: readonly string[]): Map<string, SwapSignature> {
  const found = new Map<string, boolean>()
  const lines = stdout.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith(MARK)) found.set(lines[i]!.slice(1), lines[i + 1] === 'SWAPSPACE2')
  }
  return new Map(keys.map((k) => [k, found.get(k) ?? null]))
}

export const swapSignatureFact: FactKind<SwapSignature> = { name: 'swap-signature', coalesce: true, script, parse: (stdout, keys) => parse(stdout, keys) }

/** Whether the file at `path` is a swap area (mkswap'd). */
export function swapSignature(path: string): FactQuery<SwapSignature> {
  return query(swapSignatureFact, assertHostPath(path, 'a swap file'))
}
