import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertHostPath } from './path.ts'

const FILE = '\x1e' // header of a regular file: \036<path>, then its base64 on one line
const NONE = '\x1d' // \035<path>: nothing readable as a file there (absent, directory, dangling link)

/**
 * The content of files, for diffs and for line/ini edits. Only asked for when
 * needed: a file resource compares hashes (path fact) and fetches content only
 * to show a diff. Base64 keeps any byte and any line ending intact; a read
 * error prints `!`, which base64 never does, so it cannot pass for content.
 */
function script(keys: readonly string[]): string {
  keys.forEach((k) => assertHostPath(k))
  return [
    `for p in ${sh`${keys}`}; do`,
    `  if [ -f "$p" ]; then printf '\\036%s\\n' "$p"; base64 -w0 -- "$p" 2>/dev/null || printf '!'; echo`,
    `  else printf '\\035%s\\n' "$p"; fi`,
    'done',
  ].join('\n')
}

function parse(stdout: string, keys: readonly string[]): Map<string, string | null> {
  const seen = new Map<string, string | null>()
  const lines = stdout.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.startsWith(NONE)) seen.set(line.slice(1), null)
    else if (line.startsWith(FILE)) {
      const path = line.slice(1)
      const body = lines[++i] ?? ''
      if (body.includes('!')) throw new Error(`file-content probe: cannot read ${path}`)
      seen.set(path, Buffer.from(body, 'base64').toString('utf8'))
    }
  }
  const out = new Map<string, string | null>()
  for (const k of keys) {
    const v = seen.get(k)
    if (v === undefined) throw new Error(`file-content probe: no answer for ${k}`)
    out.set(k, v)
  }
  return out
}

export const fileContentFact: FactKind<string | null> = {
  name: 'file-content',
  coalesce: true,
  script,
  parse: (stdout, keys) => parse(stdout, keys),
}

/** The text of a regular file (following a symlink), or null when there is none. */
export function fileContent(path: string): FactQuery<string | null> {
  return query(fileContentFact, assertHostPath(path))
}
