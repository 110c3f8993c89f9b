import { homedir } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { Secret } from '../core/secret.ts'
import { closest } from '../core/did-you-mean.ts'
import { SecretRef } from './secret-refs.ts'
import { becomeMethods, InventoryError, type BecomeMethod, type SourcePosition, type Vars } from './types.ts'
import type { ConnectionSettings, RawSettings, SettingKey } from './raw.ts'

/** Where a setting was written, and what relative paths in it are relative to. */
export interface SettingContext {
  baseDir: string
  position: SourcePosition
  host?: string
}

export const settingKeys: readonly SettingKey[] = [
  'address', 'port', 'user', 'become', 'becomeMethod', 'becomeUser', 'becomePassword', 'identityFile', 'knownHosts', 'passphrase', 'password', 'connectTimeoutMs', 'jump',
]

export function isSettingKey(key: string): key is SettingKey {
  return (settingKeys as readonly string[]).includes(key)
}

type Checked<T> = { ok: T } | { error: string }
type Check<T> = (value: unknown, ctx: SettingContext) => Checked<T>

const nonEmptyWord = (what: string): Check<string> => (v) =>
  typeof v === 'string' && v.length > 0 && !/\s/.test(v) ? { ok: v } : { error: `${what} must be a non-empty string without spaces, got ${show(v)}` }

const path = (what: string): Check<string> => (v, ctx) => {
  if (typeof v !== 'string' || v.length === 0) return { error: `${what} must be a file path, got ${show(v)}` }
  if (v === '~' || v.startsWith('~/')) return { ok: homedir() + v.slice(1) }
  // an inventory that travels with its keys names them relative to itself
  return { ok: isAbsolute(v) ? v : resolve(ctx.baseDir, v) }
}

const secretValue = (what: string): Check<Secret> => (v) => {
  if (v instanceof Secret) return { ok: v }
  // `!vault NAME` / `!env NAME`: a Secret once the inventory is built (resolveSecrets, with the host's vault)
  if (v instanceof SecretRef) return { ok: v as unknown as Secret }
  if (typeof v === 'string' && v.length > 0) return { ok: new Secret(v) }
  return { error: `${what} must be a non-empty string or a Secret, got ${typeof v}` }
}

const checks: { [K in SettingKey]: Check<ConnectionSettings[K]> } = {
  address: nonEmptyWord('address'),
  user: nonEmptyWord('user'),
  port(v) {
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535
      ? { ok: n }
      : { error: `invalid port ${show(v)} (expected an integer 1-65535)` }
  },
  become(v) {
    if (typeof v === 'boolean') return { ok: v }
    const word = typeof v === 'string' ? v.toLowerCase() : ''
    if (word === 'true' || word === 'yes') return { ok: true }
    if (word === 'false' || word === 'no') return { ok: false }
    return { error: `become must be true or false, got ${show(v)}` }
  },
  becomeMethod(v) {
    const word = typeof v === 'string' ? v.toLowerCase() : ''
    return (becomeMethods as readonly string[]).includes(word)
      ? { ok: word as BecomeMethod }
      : { error: `become method must be one of ${becomeMethods.join(', ')}, got ${show(v)}` }
  },
  becomeUser: nonEmptyWord('becomeUser'),
  becomePassword: secretValue('becomePassword'),
  identityFile: path('identityFile'),
  knownHosts: path('knownHosts'),
  passphrase: secretValue('passphrase'),
  password: secretValue('password'),
  jump: nonEmptyWord('jump'),
  connectTimeoutMs(v) {
    return typeof v === 'number' && Number.isFinite(v) && v > 0
      ? { ok: v }
      : { error: `connectTimeoutMs must be a positive number, got ${show(v)}` }
  },
}

/** Validate one setting; a malformed value is an InventoryError at its position. */
export function checkSetting<K extends SettingKey>(key: K, value: unknown, ctx: SettingContext, spelledAs?: string): ConnectionSettings[K] {
  const result = (checks[key] as Check<ConnectionSettings[K]>)(value, ctx)
  if ('error' in result) throw new InventoryError(spelledAs ? `${spelledAs}: ${result.error}` : result.error, ctx.position, ctx.host)
  return result.ok
}

/** Put a validated setting into `into`, refusing two different values from the same block. */
export function addSetting<K extends SettingKey>(into: RawSettings, key: K, value: unknown, ctx: SettingContext, spelledAs: string = key): void {
  const checked = checkSetting(key, value, ctx, spelledAs === key ? undefined : spelledAs)
  const before = into[key]
  if (before && !sameValue(before.value, checked)) {
    throw new InventoryError(`${spelledAs} conflicts with an earlier setting of ${key} in the same block`, ctx.position, ctx.host)
  }
  into[key] = { value: checked, position: ctx.position } as RawSettings[K]
}

/**
 * Ansible's connection variables and what they set. Other ansible_* keys are
 * ordinary vars (the engine may read them); muster_* names cover settings
 * Ansible has no variable for.
 */
const connectionVars: Record<string, { key: SettingKey; scale?: number }> = {
  ansible_host: { key: 'address' },
  ansible_ssh_host: { key: 'address' },
  ansible_port: { key: 'port' },
  ansible_ssh_port: { key: 'port' },
  ansible_user: { key: 'user' },
  ansible_ssh_user: { key: 'user' },
  ansible_become: { key: 'become' },
  ansible_become_method: { key: 'becomeMethod' },
  ansible_become_user: { key: 'becomeUser' },
  ansible_become_password: { key: 'becomePassword' },
  ansible_become_pass: { key: 'becomePassword' },
  muster_become_password: { key: 'becomePassword' },
  ansible_ssh_private_key_file: { key: 'identityFile' },
  ansible_private_key_file: { key: 'identityFile' },
  ansible_password: { key: 'password' },
  ansible_ssh_pass: { key: 'password' },
  ansible_ssh_password: { key: 'password' },
  // Ansible counts this timeout in seconds
  ansible_ssh_timeout: { key: 'connectTimeoutMs', scale: 1000 },
  ansible_timeout: { key: 'connectTimeoutMs', scale: 1000 },
  muster_known_hosts: { key: 'knownHosts' },
  muster_jump: { key: 'jump' },
  muster_ssh_passphrase: { key: 'passphrase' },
}

export function isConnectionVar(name: string): boolean {
  return Object.hasOwn(connectionVars, name)
}

/**
 * Split a block of Ansible-style vars into connection settings (validated)
 * and the remaining vars. `positionOf` names the line of each key.
 */
export function takeConnectionVars(
  vars: Vars,
  at: { baseDir: string; host?: string; positionOf: (key: string) => SourcePosition },
): { settings: RawSettings; vars: Vars } {
  const settings: RawSettings = {}
  const rest: Vars = {}
  for (const [name, value] of Object.entries(vars)) {
    if (name === 'ansible_ssh_common_args' && typeof value === 'string') {
      // Ansible's way to a bastion; the rest of these OpenSSH options mean nothing to ssh2
      const ctx = { baseDir: at.baseDir, position: at.positionOf(name), host: at.host }
      const jump = proxyJumpOf(value)
      if (jump === 'proxycommand') {
        throw new InventoryError(`${name}: ProxyCommand is not supported; name the bastion with -o ProxyJump=HOST (or muster_jump=HOST)`, ctx.position, at.host)
      }
      if (jump) addSetting(settings, 'jump', jump, ctx, name)
      rest[name] = value
      continue
    }
    const known = Object.hasOwn(connectionVars, name) ? connectionVars[name] : undefined
    if (!known) {
      const meant = misspeltSetting(name)
      if (meant) throw new InventoryError(`${name} is not a setting muster knows${meant} (an unknown ansible_* key would otherwise become a plain var, and the setting would be silently missing)`, at.positionOf(name), at.host)
      rest[name] = value
      continue
    }
    const ctx = { baseDir: at.baseDir, position: at.positionOf(name), host: at.host }
    let v = value
    if (known.scale) {
      const n = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value
      if (typeof n !== 'number' || !(n > 0)) throw new InventoryError(`${name} must be a positive number of seconds, got ${show(value)}`, ctx.position, at.host)
      v = n * known.scale
    }
    addSetting(settings, known.key, v, ctx, name)
  }
  return { settings, vars: rest }
}

/** Ansible's own variables that muster does not act on: vars, never "misspelt settings". */
const otherAnsibleVars = new Set([
  'ansible_connection', 'ansible_python_interpreter', 'ansible_ssh_args', 'ansible_ssh_extra_args', 'ansible_scp_extra_args',
  'ansible_sftp_extra_args', 'ansible_ssh_pipelining', 'ansible_ssh_executable', 'ansible_become_user', 'ansible_become_method',
  'ansible_become_pass', 'ansible_become_password', 'ansible_become_exe', 'ansible_become_flags', 'ansible_shell_type',
  'ansible_shell_executable', 'ansible_host_key_checking', 'ansible_network_os', 'ansible_ssh_common_args',
])

/**
 * "; did you mean 'ansible_host'?" for an ansible_* or muster_* key that is
 * one slip away from a connection setting (`ansible_hots`); '' otherwise.
 * Only the part after the prefix is compared, so a long key is not "close"
 * to another by sharing its prefix.
 */
export function misspeltSetting(name: string): string {
  const prefix = /^(ansible_|muster_)/.exec(name)?.[1]
  if (!prefix || otherAnsibleVars.has(name)) return ''
  const family = Object.keys(connectionVars).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))
  const near = closest(name.slice(prefix.length), family)
  return near.length === 0 ? '' : `; did you mean ${near.map((n) => `'${prefix}${n}'`).join(' or ')}?`
}

/**
 * The bastion in OpenSSH arguments (`-J b`, `-o ProxyJump=b`, any case, quoted
 * or not), 'proxycommand' when they use ProxyCommand instead, which muster
 * cannot follow, or undefined.
 */
export function proxyJumpOf(args: string): string | undefined {
  if (/(?:^|\s)-o\s*['"]?proxycommand\b/i.test(args)) return 'proxycommand'
  const m = /(?:^|\s)(?:-J\s*|-o\s*['"]?proxyjump\s*[= ]\s*)(['"]?)([^\s'"]+)\1/i.exec(args)
  return m?.[2]
}

/** Equality for conflict checks: plain data compared structurally, secrets by their text. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof SecretRef || b instanceof SecretRef) return a instanceof SecretRef && b instanceof SecretRef && a.from === b.from && a.name === b.name
  if (a instanceof Secret || b instanceof Secret) return a instanceof Secret && b instanceof Secret && a.reveal() === b.reveal()
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Vars)[k], (b as Vars)[k]))
  }
  return Number.isNaN(a) && Number.isNaN(b)
}

export function show(v: unknown): string {
  if (v instanceof Secret) return 'a secret'
  if (v instanceof SecretRef) return String(v)
  if (typeof v === 'string') return JSON.stringify(v)
  if (v === null || typeof v !== 'object') return String(v)
  return Array.isArray(v) ? 'a list' : 'a mapping'
}
