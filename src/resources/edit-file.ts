import { change, ok, type Plan } from '../contract/resource.ts'
import type { PathState } from '../facts/path.ts'
import { unifiedDiff } from './diff.ts'
import { predictFile } from './file.ts'
import { writeFileAtomic } from './write-file.ts'

/**
 * The common end of lineInFile and iniSetting: they compute the file's new
 * text from its current text, and this turns the pair into a plan that writes
 * it atomically (keeping the file's mode and owner) with a diff.
 */
export function planEdit(path: string, state: PathState, before: string | null, after: string, summary: string): Plan {
  if (after === before) return ok()
  const bytes = Buffer.from(after, 'utf8')
  const want = before === null ? { mode: '0644' } : {}
  return change(summary, (ctx) => writeFileAtomic(ctx, path, bytes, want), {
    diff: unifiedDiff(path, before, after),
    predicts: predictFile(path, bytes, want, state),
  })
}

/** An edit needs a regular file (or nothing, when it may create one); a symlink would be replaced, not followed. */
export function assertEditable(path: string, state: PathState, what: string): void {
  if (state.type === 'absent' || state.type === 'file') return
  const is = state.type === 'symlink' ? `a symlink (-> ${state.target}); point ${what} at the file itself` : `a ${state.type === 'other' ? 'special file' : state.type}`
  throw new Error(`${path} is ${is}`)
}

/** Lines of a text without the empty string after its final newline. */
export function splitLines(text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

export function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}
