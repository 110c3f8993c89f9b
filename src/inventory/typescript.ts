import { dirname, resolve } from 'node:path'
import { importTsModule } from '../core/ts-module.ts'
import { userLocation } from '../core/user-frames.ts'
import { InventoryError, type SourcePosition, type Vars } from './types.ts'
import { rawGroup, type RawInventory, type RawSettings } from './raw.ts'
import { addSetting, isSettingKey, settingKeys } from './settings.ts'
import { didYouMean } from '../core/did-you-mean.ts'

/**
 * Import a TypeScript/JavaScript inventory module and read its default export.
 * .ts modules are compiled (and cached) by importTsModule; no loader is needed.
 */
export async function loadTypeScriptInventory(file: string): Promise<RawInventory> {
  let mod: Record<string, unknown>
  try {
    mod = await importTsModule(resolve(file))
  } catch (e) {
    // the message, not the stack: the user needs what went wrong in their file, not our call chain
    const message = (e instanceof Error ? e.message : String(e)).replace(/^Transform failed with \d+ errors?:\n/, '')
    const at = userLocation(e) // with the user's own file and line when it threw (source-mapped)
    throw new InventoryError(`cannot load inventory module: ${at ? `${at}: ` : ''}${message}`, { file })
  }
  const spec = mod.default
  if (spec === undefined) {
    throw new InventoryError('the module has no default export (write `export default defineInventory({ hosts: {...} })`)', { file })
  }
  return fromSpec(spec, file)
}

const HOST_FIELDS = new Set(['address', 'groups', 'vars'])
const GROUP_FIELDS = new Set(['hosts', 'children', 'vars', 'ssh'])
const SPEC_FIELDS = new Set(['ssh', 'vars', 'groups', 'hosts'])

/** Translate an InventorySpec (checked, since JavaScript callers bypass the types) into the raw model. */
export function fromSpec(spec: unknown, file: string): RawInventory {
  const position: SourcePosition = { file }
  const baseDir = dirname(resolve(file))
  const fail = (message: string, host?: string): never => {
    throw new InventoryError(message, position, host)
  }
  if (!isRecord(spec)) return fail('the default export must be an object made by defineInventory({...})')
  for (const k of Object.keys(spec)) if (!SPEC_FIELDS.has(k)) fail(`unknown inventory field '${k}' (expected ${[...SPEC_FIELDS].join(', ')})`)
  if (!isRecord(spec.hosts)) return fail('`hosts` must be an object of host name -> settings')

  const settingsOf = (from: Record<string, unknown>, allowed: Set<string>, prefix: string, host?: string): RawSettings => {
    const settings: RawSettings = {}
    for (const [k, v] of Object.entries(from)) {
      if (allowed.has(k)) continue
      // address is a host's own, never a shared ssh default
      if (!isSettingKey(k) || k === 'address') return fail(`${prefix}unknown field '${k}'${didYouMean(k, [...allowed, ...settingKeys.filter((s) => host !== undefined || s !== 'address')])}`, host)
      if (v !== undefined) addSetting(settings, k, v, { baseDir, position, host })
    }
    return settings
  }
  const varsOf = (v: unknown, prefix: string, host?: string): Vars => {
    if (v === undefined) return {}
    if (!isRecord(v)) return fail(`${prefix}vars must be an object`, host)
    return { ...v }
  }
  const names = (v: unknown, what: string, host?: string): string[] => {
    if (v === undefined) return []
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0)) return fail(`${what} must be a list of names`, host)
    return v as string[]
  }

  const raw: RawInventory = { source: file, hosts: [], groups: [] }
  const all = rawGroup('all', position)
  all.vars = varsOf(spec.vars, '')
  if (spec.ssh !== undefined) {
    if (!isRecord(spec.ssh)) fail('`ssh` must be an object of settings')
    all.settings = settingsOf(spec.ssh as Record<string, unknown>, new Set(), 'ssh: ')
  }
  raw.groups.push(all)

  if (spec.groups !== undefined && !isRecord(spec.groups)) fail('`groups` must be an object of group name -> {hosts, children, vars}')
  for (const [name, body] of Object.entries((spec.groups ?? {}) as Record<string, unknown>)) {
    if (!isRecord(body)) return fail(`group ${name}: must be an object {hosts, children, vars}`)
    for (const k of Object.keys(body)) if (!GROUP_FIELDS.has(k)) fail(`group ${name}: unknown field '${k}' (expected hosts, children, vars, ssh)`)
    const g = rawGroup(name, position)
    g.hosts = names(body.hosts, `group ${name}: hosts`).map((value) => ({ value, position }))
    g.children = names(body.children, `group ${name}: children`).map((value) => ({ value, position }))
    g.vars = varsOf(body.vars, `group ${name}: `)
    if (body.ssh !== undefined) {
      if (!isRecord(body.ssh)) fail(`group ${name}: ssh must be an object of settings`)
      g.settings = settingsOf(body.ssh as Record<string, unknown>, new Set(), `group ${name}: ssh: `)
    }
    raw.groups.push(g)
  }

  for (const [name, body] of Object.entries(spec.hosts)) {
    if (body === null || body === undefined) {
      raw.hosts.push({ name, position, groups: [], vars: {}, settings: {} })
      continue
    }
    if (!isRecord(body)) return fail('settings must be an object', name)
    const settings = settingsOf(body, HOST_FIELDS, '', name)
    if (body.address !== undefined) addSetting(settings, 'address', body.address, { baseDir, position, host: name })
    raw.hosts.push({
      name,
      position,
      groups: names(body.groups, 'groups', name).map((value) => ({ value, position })),
      vars: varsOf(body.vars, '', name),
      settings,
    })
  }
  return raw
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
