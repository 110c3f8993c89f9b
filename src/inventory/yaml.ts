import { dirname, resolve } from 'node:path'
import { requirePackage } from '../core/require-package.ts'
import type { Document, YAMLMap } from 'yaml'
import { InventoryError, type SourcePosition, type Vars } from './types.ts'
import { rawGroup, type RawGroup, type RawInventory } from './raw.ts'
import { addSetting, takeConnectionVars } from './settings.ts'
import { parseHostPattern } from './host-range.ts'
import { hasRef, SecretRef } from './secret-refs.ts'

const GROUP_KEYS = ['hosts', 'vars', 'children']

/**
 * Ansible's YAML inventory (JSON too, being YAML):
 * `all: { hosts: {name: {vars}}, vars: {...}, children: {group: {hosts, vars, children}} }`.
 * Every group and host keeps the line it was written on. `!vault NAME` and
 * `!env NAME` are secrets kept elsewhere (see SecretRef).
 */
// The yaml package costs ~25 ms to load: required on first use, so only YAML inventories pay for it.
let yamlLib: typeof import('yaml') | undefined
const yaml = (): typeof import('yaml') => (yamlLib ??= requirePackage('yaml') as typeof import('yaml'))
const isMap = (n: unknown): n is YAMLMap => yaml().isMap(n)
const isNode = (n: unknown): n is import('yaml').Node => yaml().isNode(n)
const isScalar = (n: unknown): n is import('yaml').Scalar => yaml().isScalar(n)

export function parseYamlInventory(text: string, file: string): RawInventory {
  const { LineCounter, parseDocument } = yaml()
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, customTags: refTags(file) })
  const at = (node: unknown): SourcePosition => {
    const offset = isNode(node) ? node.range?.[0] : undefined
    if (offset === undefined) return { file }
    const { line, col } = lines.linePos(offset)
    return { file, line, column: col }
  }
  const syntax = doc.errors[0]
  if (syntax) {
    let offset = syntax.pos[0]
    // yaml places a duplicate key at the end of the line before it; point at the key itself
    if (syntax.code === 'DUPLICATE_KEY') while (offset < text.length && /\s/.test(text[offset]!)) offset++
    const { line, col } = lines.linePos(offset)
    throw new InventoryError(`YAML syntax error: ${syntax.message.split('\n')[0]}`, { file, line, column: col })
  }

  const raw: RawInventory = { source: file, hosts: [], groups: [] }
  const baseDir = dirname(resolve(file))
  const root = doc.contents
  if (root === null || (isScalar(root) && root.value === null)) return raw
  if (!isMap(root)) throw new InventoryError('expected a mapping of groups at the top (all: {hosts, vars, children})', at(root))

  const group = (nameNode: unknown, body: unknown): void => {
    const name = keyName(nameNode, at)
    const position = at(nameNode)
    const g: RawGroup = rawGroup(name, position)
    raw.groups.push(g)
    if (body === null || (isScalar(body) && body.value === null)) return
    if (!isMap(body)) throw new InventoryError(`group ${name}: expected a mapping with hosts, vars or children`, at(body))
    for (const pair of body.items) {
      const key = keyName(pair.key, at)
      if (!GROUP_KEYS.includes(key)) {
        throw new InventoryError(`group ${name}: unknown key '${key}' (expected hosts, vars or children)`, at(pair.key))
      }
    }
    // vars first: the group's own line for settings, whatever order the keys came in
    const vars = mappingOrEmpty(body.get('vars', true), `group ${name}: vars`, at)
    if (vars) {
      const taken = takeConnectionVars(toVars(vars, doc, at), { baseDir, positionOf: (k) => at(keyNode(vars, k)) })
      g.vars = taken.vars
      g.settings = taken.settings
    }
    const hosts = mappingOrEmpty(body.get('hosts', true), `group ${name}: hosts`, at)
    for (const pair of hosts?.items ?? []) {
      const text = keyName(pair.key, at)
      const hostPosition = at(pair.key)
      const { names, port } = parseHostPattern(text, hostPosition)
      const hostVars = mappingOrEmpty(pair.value, `host ${text}: vars`, at)
      for (const host of names) {
        const taken = hostVars
          ? takeConnectionVars(toVars(hostVars, doc, at), { baseDir, host, positionOf: (k) => at(keyNode(hostVars, k)) })
          : { vars: {}, settings: {} }
        if (port !== undefined) addSetting(taken.settings, 'port', port, { baseDir, position: hostPosition, host }, text)
        raw.hosts.push({ name: host, position: hostPosition, groups: [], vars: taken.vars, settings: taken.settings })
        // a host under "all" is in every group already; no edge needed
        if (name !== 'all') g.hosts.push({ value: host, position: hostPosition })
      }
    }
    const children = mappingOrEmpty(body.get('children', true), `group ${name}: children`, at)
    for (const pair of children?.items ?? []) {
      g.children.push({ value: keyName(pair.key, at), position: at(pair.key) })
    }
    for (const pair of children?.items ?? []) group(pair.key, pair.value)
  }
  for (const pair of root.items) group(pair.key, pair.value)
  return raw
}

function keyName(node: unknown, at: (n: unknown) => SourcePosition): string {
  const value = isScalar(node) ? node.value : undefined
  if (typeof value === 'string' && value.length > 0) return value
  if (typeof value === 'number') return String(value)
  throw new InventoryError('expected a name (a plain string) here', at(node))
}

function mappingOrEmpty(node: unknown, what: string, at: (n: unknown) => SourcePosition): YAMLMap | undefined {
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined
  if (!isMap(node)) throw new InventoryError(`${what} must be a mapping`, at(node))
  return node
}

function keyNode(map: YAMLMap, key: string): unknown {
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === key)?.key
}

function toVars(map: YAMLMap, doc: Document, at: (n: unknown) => SourcePosition): Vars {
  const out: Vars = {}
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
    const value: unknown = isNode(pair.value) ? pair.value.toJS(doc) : pair.value ?? null
    out[key] = hasRef(value) ? locate(value, at(pair.value)) : value
  }
  return out
}

/**
 * `!vault NAME` and `!env NAME`: secrets kept elsewhere (see SecretRef), in
 * the spirit of Ansible's `!vault |`, which carries the ciphertext inline.
 */
function refTags(file: string): import('yaml').ScalarTag[] {
  const tag = (from: 'vault' | 'env'): import('yaml').ScalarTag => ({
    tag: `!${from}`,
    resolve: (name, onError) => {
      if (!/^\S+$/.test(name.trim())) onError(`!${from} needs one name: \`!${from} NAME\``)
      return new SecretRef(from, name.trim(), { file })
    },
  })
  return [tag('vault'), tag('env')]
}

/** The references inside a var's value, placed on the var's line. */
function locate(v: unknown, position: SourcePosition): unknown {
  if (v instanceof SecretRef) return new SecretRef(v.from, v.name, position)
  if (Array.isArray(v)) return v.map((x) => locate(x, position))
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, locate(x, position)]))
  return v
}
