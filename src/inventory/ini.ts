import { dirname, resolve } from 'node:path'
import { InventoryError, type SourcePosition, type Vars } from './types.ts'
import { rawGroup, type RawGroup, type RawInventory } from './raw.ts'
import { addSetting, takeConnectionVars } from './settings.ts'
import { parseHostPattern } from './host-range.ts'
import { secretRefIn } from './secret-refs.ts'

type Section = { kind: 'hosts'; group?: RawGroup } | { kind: 'vars'; group: RawGroup; block: VarBlock } | { kind: 'children'; group: RawGroup }
interface VarBlock {
  vars: Vars
  lines: Map<string, number>
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const GROUP_NAME = /^[^\s:=[\]#;]+$/

/**
 * Ansible's INI inventory: hosts before any section are ungrouped; `[g]` lists
 * hosts with inline `key=value` vars, `[g:vars]` one `key=value` per line,
 * `[g:children]` one group per line; `#` and `;` start comments. A value
 * `!vault NAME` or `!env NAME` is a secret kept elsewhere (see SecretRef).
 */
export function parseIniInventory(text: string, file: string): RawInventory {
  const raw: RawInventory = { source: file, hosts: [], groups: [] }
  const baseDir = dirname(resolve(file))
  let section: Section = { kind: 'hosts' }

  const closeVars = (): void => {
    if (section.kind !== 'vars') return
    const { block, group } = section
    const taken = takeConnectionVars(block.vars, { baseDir, positionOf: (k) => ({ file, line: block.lines.get(k) }) })
    group.vars = taken.vars
    group.settings = taken.settings
  }

  text.split(/\r?\n/).forEach((content, index) => {
    const line = index + 1
    const position: SourcePosition = { file, line }
    const trimmed = content.trim()
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return

    if (trimmed.startsWith('[')) {
      closeVars()
      const m = /^\[([^\]\s:]+)(?::([^\]\s]*))?\]\s*(?:[#;].*)?$/.exec(trimmed)
      if (!m) throw new InventoryError(`malformed section header '${trimmed}' (expected [group], [group:vars] or [group:children])`, position)
      const [, name, suffix] = m
      if (!GROUP_NAME.test(name)) throw new InventoryError(`invalid group name '${name}'`, position)
      if (suffix === undefined) {
        section = { kind: 'hosts', group: pushGroup(raw, name, position, true) }
      } else if (suffix === 'vars') {
        section = { kind: 'vars', group: pushGroup(raw, name, position, false), block: { vars: {}, lines: new Map() } }
      } else if (suffix === 'children') {
        section = { kind: 'children', group: pushGroup(raw, name, position, true) }
      } else {
        throw new InventoryError(`group ${name}: unknown section suffix ':${suffix}' (expected :vars or :children)`, position)
      }
      return
    }

    if (section.kind === 'vars') {
      const { key, value } = parseAssignment(trimmed, position)
      const first = section.block.lines.get(key)
      if (first !== undefined) throw new InventoryError(`group ${section.group.name}: var '${key}' set twice (first at line ${first})`, position)
      section.block.vars[key] = value
      section.block.lines.set(key, line)
    } else if (section.kind === 'children') {
      const [child, ...more] = tokenize(trimmed, position)
      if (!child || more.length > 0 || child.quoted || !GROUP_NAME.test(child.text)) {
        throw new InventoryError(`group ${section.group.name}: expected one child group name per line, got '${trimmed}'`, position)
      }
      section.group.children.push({ value: child.text, position })
    } else {
      hostLine(trimmed, position, section.group)
    }
  })
  closeVars()
  return raw

  function hostLine(textOfLine: string, position: SourcePosition, group: RawGroup | undefined): void {
    const [first, ...rest] = tokenize(textOfLine, position)
    if (!first) return
    const { names, port } = parseHostPattern(first.text, position)
    const vars: Vars = {}
    for (const token of rest) {
      const eq = token.text.indexOf('=')
      const key = eq > 0 ? token.text.slice(0, eq) : ''
      if (!VAR_NAME.test(key)) throw new InventoryError(`malformed key=value '${token.text}'`, position, first.text)
      if (Object.hasOwn(vars, key)) throw new InventoryError(`var '${key}' set twice on one line`, position, first.text)
      const value = token.text.slice(eq + 1)
      // `key="!vault name"`: a reference needs its quotes on a host line, where spaces split vars
      vars[key] = secretRefIn(value, position, first.text) ?? (token.quoted ? value : typed(value))
    }
    for (const host of names) {
      const taken = takeConnectionVars(vars, { baseDir, host, positionOf: () => position })
      if (port !== undefined) addSetting(taken.settings, 'port', port, { baseDir, position, host }, first.text)
      raw.hosts.push({ name: host, position, groups: [], vars: taken.vars, settings: taken.settings })
      group?.hosts.push({ value: host, position })
    }
  }
}

function pushGroup(raw: RawInventory, name: string, position: SourcePosition, declares: boolean): RawGroup {
  const g = rawGroup(name, position, declares)
  raw.groups.push(g)
  return g
}

/** `key=value` in a [group:vars] section: the value is the rest of the line. */
function parseAssignment(line: string, position: SourcePosition): { key: string; value: unknown } {
  const eq = line.indexOf('=')
  const key = eq > 0 ? line.slice(0, eq).trim() : ''
  if (!VAR_NAME.test(key)) throw new InventoryError(`malformed key=value '${line}' (expected name=value)`, position)
  const rest = line.slice(eq + 1).trim()
  if (rest.startsWith('"') || rest.startsWith("'")) {
    const [token, ...after] = tokenize(rest, position)
    if (after.length > 0) throw new InventoryError(`unexpected text after the quoted value of '${key}'`, position)
    const text = token?.text ?? ''
    return { key, value: secretRefIn(text, position) ?? text }
  }
  // as in a host line, a comment starts at a # after whitespace
  const text = rest.replace(/\s+[#;].*$/, '')
  return { key, value: secretRefIn(text, position) ?? typed(text) }
}

/** INI values are text; these are the two shapes read as something else. */
function typed(value: string): unknown {
  if (/^-?(0|[1-9]\d*)$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value)
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
  return value
}

interface Token {
  text: string
  /** Any part of it was quoted: the value stays a string, as written. */
  quoted: boolean
}

/** Split on whitespace, honouring '...' and "..." (with \ escapes) the way a shell would; # starts a comment. */
function tokenize(line: string, position: SourcePosition): Token[] {
  const tokens: Token[] = []
  let current: Token | undefined
  let i = 0
  while (i < line.length) {
    const c = line[i]!
    if (/\s/.test(c)) {
      if (current) tokens.push(current)
      current = undefined
      i++
      continue
    }
    if (c === '#' && !current) break
    current ??= { text: '', quoted: false }
    if (c === '"' || c === "'") {
      const end = closingQuote(line, i)
      if (end < 0) throw new InventoryError(`unterminated ${c} quote`, position)
      const inner = line.slice(i + 1, end)
      current.text += c === '"' ? inner.replace(/\\(.)/g, '$1') : inner
      current.quoted = true
      i = end + 1
      continue
    }
    current.text += c
    i++
  }
  if (current) tokens.push(current)
  return tokens
}

function closingQuote(line: string, open: number): number {
  const q = line[open]
  for (let i = open + 1; i < line.length; i++) {
    if (q === '"' && line[i] === '\\') i++
    else if (line[i] === q) return i
  }
  return -1
}
