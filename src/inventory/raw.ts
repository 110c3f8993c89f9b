import type { Secret } from '../core/secret.ts'
import type { BecomeMethod, SourcePosition, Vars } from './types.ts'

/**
 * The one intermediate model every inventory format produces. Parsers only say
 * what each file says, where; buildInventory() alone merges, resolves and
 * checks it, so the three formats cannot drift apart in meaning.
 */
export interface RawInventory {
  /** The file as the user named it, for error messages. */
  source: string
  /** Declarations in file order; a name may be declared more than once. */
  hosts: RawHost[]
  groups: RawGroup[]
}

export interface Located<T> {
  value: T
  position: SourcePosition
}

/** Connection settings after validation, before defaults. */
export interface ConnectionSettings {
  address: string
  port: number
  user: string
  become: boolean
  becomeMethod: BecomeMethod
  becomeUser: string
  becomePassword: Secret
  identityFile: string
  knownHosts: string
  passphrase: Secret
  password: Secret
  connectTimeoutMs: number
  jump: string
}
export type SettingKey = keyof ConnectionSettings
export type RawSettings = { [K in SettingKey]?: Located<ConnectionSettings[K]> }

export interface RawHost {
  name: string
  position: SourcePosition
  /** Groups the host itself says it belongs to (TypeScript `groups: [...]`); created when missing. */
  groups: Located<string>[]
  vars: Vars
  settings: RawSettings
}

export interface RawGroup {
  name: string
  position: SourcePosition
  /**
   * False for a fragment that only adds to a group defined elsewhere (INI
   * `[web:vars]`): such a group must still be defined somewhere.
   */
  declares: boolean
  /** Member hosts; each must be declared as a RawHost. */
  hosts: Located<string>[]
  /** Child groups; each must be defined. */
  children: Located<string>[]
  vars: Vars
  settings: RawSettings
}

export function rawGroup(name: string, position: SourcePosition, declares = true): RawGroup {
  return { name, position, declares, hosts: [], children: [], vars: {}, settings: {} }
}
