import { ok, resource, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { pathState, assertHostPath, type PathState } from '../facts/path.ts'
import { fileContent } from '../facts/file-content.ts'
import { assertEditable, joinLines, planEdit, splitLines } from './edit-file.ts'

/** Options of `lineInFile()`: the line, the regexp that finds its old form, or its absence. */
export type LineInFileOptions = ResourceMeta &
  (
    | {
        state?: 'present'
        line: string
        /** The line to replace (the last match). When nothing matches and `line` is not already there, `line` is inserted. */
        regexp?: RegExp | string
        /** Insert after the last line matching this (default, or when nothing matches: at the end). */
        insertAfter?: RegExp | string
        /** Create the file (mode 0644) when it does not exist (default true); false makes a missing file an error. */
        create?: boolean
      }
    | {
        state: 'absent'
        /** Remove every line equal to this ... */
        line?: string
        /** ... or every line matching this. */
        regexp?: RegExp | string
      }
  )

export type LineInFileProbe = { content: ReturnType<typeof fileContent>; state: ReturnType<typeof pathState> }

export interface LineEdit {
  state: 'present' | 'absent'
  line?: string
  regexp?: RegExp
  insertAfter?: RegExp
}

/** One line of a file present (or absent), the rest of the file left alone. */
export function lineInFile(path: string, opts: LineInFileOptions): Resource<LineInFileProbe> {
  const edit = lineEdit(opts)
  const id = `lineinfile:${path}:${opts.regexp !== undefined ? String(opts.regexp) : opts.line}`
  assertHostPath(path, id)
  const create = opts.state !== 'absent' && (opts.create ?? true)
  return resource({
    id,
    type: 'lineInFile',
    probe: { content: fileContent(path), state: pathState(path) },
    plan: ({ content, state }) => planLineInFile(path, edit, create, content, state),
    meta: opts,
  })
}

function lineEdit(opts: LineInFileOptions): LineEdit {
  const state = opts.state ?? 'present'
  const line = opts.line
  if (line !== undefined && (typeof line !== 'string' || line.includes('\n'))) {
    throw new Error(`lineInFile: line must be one line of text, got ${JSON.stringify(line)}`)
  }
  if (state === 'present' && line === undefined) throw new Error('lineInFile: state present needs a line')
  if (state === 'absent' && line === undefined && opts.regexp === undefined) throw new Error('lineInFile: state absent needs a line or a regexp')
  const edit: LineEdit = { state }
  if (line !== undefined) edit.line = line
  if (opts.regexp !== undefined) edit.regexp = toRegExp(opts.regexp)
  if (opts.state !== 'absent' && opts.insertAfter !== undefined) edit.insertAfter = toRegExp(opts.insertAfter)
  return edit
}

// a global or sticky regexp remembers lastIndex between test() calls: per-line matching needs neither
function toRegExp(r: RegExp | string): RegExp {
  return typeof r === 'string' ? new RegExp(r) : new RegExp(r.source, r.flags.replace(/[gy]/g, ''))
}

export function planLineInFile(path: string, edit: LineEdit, create: boolean, content: string | null, state: PathState): Plan {
  assertEditable(path, state, 'lineInFile')
  if (content === null) {
    if (edit.state === 'absent') return ok('file absent')
    if (!create) throw new Error(`${path} does not exist (create: false)`)
  }
  const result = editLines(content ?? '', edit)
  if (content === null) return planEdit(path, state, null, result.text, `create with ${JSON.stringify(edit.line)}`)
  return planEdit(path, state, content, result.text, result.summary)
}

/** Pure text edit; `text` is returned unchanged (the very same string) when the line is already as asked. */
export function editLines(text: string, edit: LineEdit): { text: string; summary: string } {
  const lines = splitLines(text)
  const { line, regexp } = edit
  if (edit.state === 'absent') {
    const keep = lines.filter((l) => !(regexp ? regexp.test(l) : l === line))
    const removed = lines.length - keep.length
    return removed === 0 ? { text, summary: '' } : { text: joinLines(keep), summary: `remove ${removed} line${removed > 1 ? 's' : ''}` }
  }
  const want = line as string
  if (regexp) {
    let at = -1
    lines.forEach((l, i) => {
      if (regexp.test(l)) at = i
    })
    if (at >= 0) {
      if (lines[at] === want) return { text, summary: '' }
      const old = lines[at]
      lines[at] = want
      return { text: joinLines(lines), summary: `replace line ${JSON.stringify(old)}` }
    }
  }
  if (lines.includes(want)) return { text, summary: '' }
  let after = lines.length - 1
  if (edit.insertAfter) {
    const re = edit.insertAfter
    lines.forEach((l, i) => {
      if (re.test(l)) after = i
    })
  }
  lines.splice(after + 1, 0, want)
  return { text: joinLines(lines), summary: 'add line' }
}
