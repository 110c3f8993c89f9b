import { ok, resource, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { pathState, assertHostPath, type PathState } from '../facts/path.ts'
import { fileContent } from '../facts/file-content.ts'
import { assertEditable, joinLines, planEdit, splitLines } from './edit-file.ts'

/** Options of `iniSetting()`: the section, key and value (or its absence) in an INI file. */
export type IniSettingOptions = ResourceMeta & {
  /** The [section]; null for settings before the first section header. */
  section: string | null
  key: string
} & ({ state?: 'present'; value: string | number | boolean } | { state: 'absent' })

export type IniSettingProbe = { content: ReturnType<typeof fileContent>; state: ReturnType<typeof pathState> }

export interface IniEdit {
  section: string | null
  key: string
  /** undefined: the key must be absent */
  value?: string
}

/**
 * One `key = value` in one section of an INI-style file (MariaDB's my.cnf
 * drop-ins, php.ini, systemd-like files); the rest of the file is left as it
 * is, comments included. A missing file is created (mode 0644) when a value is asked for.
 */
export function iniSetting(path: string, opts: IniSettingOptions): Resource<IniSettingProbe> {
  const id = `ini:${path}:[${opts.section ?? ''}]${opts.key}`
  assertHostPath(path, id)
  if (typeof opts.key !== 'string' || !/^[^\s=\[\]#;][^=\n]*$/.test(opts.key) || opts.key.trim() !== opts.key) {
    throw new Error(`${id}: not a usable key: ${JSON.stringify(opts.key)}`)
  }
  if (opts.section !== null && (typeof opts.section !== 'string' || /[\]\n]/.test(opts.section))) {
    throw new Error(`${id}: not a usable section name: ${JSON.stringify(opts.section)}`)
  }
  const edit: IniEdit = { section: opts.section, key: opts.key }
  if (opts.state !== 'absent') {
    const value = String(opts.value)
    if (value.includes('\n')) throw new Error(`${id}: the value must be one line`)
    edit.value = value
  }
  return resource({
    id,
    type: 'ini',
    probe: { content: fileContent(path), state: pathState(path) },
    plan: ({ content, state }) => planIniSetting(path, edit, content, state),
    meta: opts,
  })
}

export function planIniSetting(path: string, edit: IniEdit, content: string | null, state: PathState): Plan {
  assertEditable(path, state, 'iniSetting')
  if (content === null && edit.value === undefined) return ok('file absent')
  const result = editIni(content ?? '', edit)
  return planEdit(path, state, content, result.text, content === null ? `create with ${result.summary}` : result.summary)
}

const HEADER = /^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$/
const COMMENT = /^\s*(?:[#;]|$)/

/** The key of a setting line (`key = value`, `key=value`, or a bare `key`), undefined for anything else. */
function settingKey(line: string): string | undefined {
  if (COMMENT.test(line) || HEADER.test(line)) return undefined
  const eq = line.indexOf('=')
  return (eq < 0 ? line : line.slice(0, eq)).trim()
}

function settingValue(line: string): string | undefined {
  const eq = line.indexOf('=')
  return eq < 0 ? undefined : line.slice(eq + 1).trim()
}

/** Pure text edit; returns `text` itself when the setting is already as asked. */
export function editIni(text: string, edit: IniEdit): { text: string; summary: string } {
  const lines = splitLines(text)
  const { section, key, value } = edit
  const wanted = `${key} = ${value}`
  // the section's lines: [start, end); for section null, from the top to the first header
  let start = section === null ? 0 : -1
  let end = lines.length
  for (let i = 0; i < lines.length; i++) {
    const h = HEADER.exec(lines[i])
    if (!h) continue
    if (start >= 0) {
      end = i
      break
    }
    if (h[1] === section) start = i + 1
  }
  const label = `${section === null ? '' : `[${section}] `}${key}`

  if (start < 0) {
    if (value === undefined) return { text, summary: '' }
    const add = lines.length > 0 && lines[lines.length - 1].trim() !== '' ? [''] : []
    return { text: joinLines([...lines, ...add, `[${section}]`, wanted]), summary: `add ${label} = ${value}` }
  }
  const at: number[] = []
  for (let i = start; i < end; i++) if (settingKey(lines[i]) === key) at.push(i)

  if (value === undefined) {
    if (at.length === 0) return { text, summary: '' }
    return { text: joinLines(lines.filter((_, i) => !at.includes(i))), summary: `remove ${label}` }
  }
  if (at.length > 0) {
    if (at.every((i) => settingValue(lines[i]) === value)) return { text, summary: '' }
    const old = settingValue(lines[at[at.length - 1]])
    // every occurrence, since most readers let the last one win
    for (const i of at) lines[i] = wanted
    return { text: joinLines(lines), summary: `${label}: ${old ?? '(no value)'} -> ${value}` }
  }
  // after the section's last setting or comment, not after the blank lines that separate it from the next
  let insert = start
  for (let i = start; i < end; i++) if (lines[i].trim() !== '') insert = i + 1
  lines.splice(insert, 0, wanted)
  return { text: joinLines(lines), summary: `add ${label} = ${value}` }
}
