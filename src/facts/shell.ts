import { query, type FactKind, type FactQuery } from '../contract/fact.ts'

/** What a read-only shell snippet printed and how it exited. */
export interface ShellResult {
  code: number
  stdout: string
}

/**
 * The probe batch reaches the host on the stdin of `sh -s`: a snippet that
 * read stdin would swallow the rest of the batch, so it gets /dev/null. The
 * subshell keeps its `exit`, `cd` and variables to itself.
 */
function script(keys: readonly string[]): string {
  if (keys.length !== 1) throw new Error(`shell probe: one snippet per section, got ${keys.length}`)
  return `(\n${keys[0]}\n) </dev/null`
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, ShellResult> {
  return new Map(keys.map((k) => [k, { code, stdout }]))
}

/**
 * Arbitrary read-only checks (`unless`/`onlyIf` guards, "does the database
 * exist?"): each key is a snippet with a section of its own, so one snippet's
 * output or exit code cannot bleed into another's. The snippet must not change
 * the host: probes run in check mode too.
 */
export const shellFact: FactKind<ShellResult> = {
  name: 'shell',
  coalesce: false,
  script,
  parse,
}

/** Run `snippet` (read-only POSIX shell) as part of the probe; its exit code and stdout are the value. */
export function shell(snippet: string): FactQuery<ShellResult> {
  if (typeof snippet !== 'string' || snippet.trim() === '') throw new Error('a shell check needs a non-empty snippet')
  return query(shellFact, snippet)
}
