import type { Secret } from '../core/secret.ts'

/** Vars by name, as inventories set them and roles read them. */
export type Vars = Record<string, unknown>

export const becomeMethods = ['sudo', 'sudo-rs', 'su', 'doas'] as const
export type BecomeMethod = (typeof becomeMethods)[number]

/** How to reach a host over SSH. Every field has a default in one place: resolveSsh(). */
export interface SshSettings {
  /** Login user (default "root"). */
  user?: string
  port?: number
  /** Private key file; default: ssh-agent if SSH_AUTH_SOCK is set, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identityFile?: string
  /** Passphrase for identityFile. */
  passphrase?: Secret
  /** Password login (discouraged). */
  password?: Secret
  /** OpenSSH known_hosts file (default ~/.ssh/known_hosts). */
  knownHosts?: string
  /** Run commands as becomeUser (default: true when user is not root). */
  become?: boolean
  /**
   * How (default `sudo`): `sudo` and `sudo-rs` (with becomePassword when the
   * sudoers rule asks for one), `su` (needs becomePassword: the target user's),
   * `doas` (a `permit nopass` rule: doas reads passwords from a terminal only).
   */
  becomeMethod?: BecomeMethod
  /** Whom to become (default root). */
  becomeUser?: string
  /** Answered to the method's password prompt on the channel's stdin; never in argv, env or a file. */
  becomePassword?: Secret
  /** Milliseconds to wait for the TCP connect and handshake (default 10000). */
  connectTimeoutMs?: number
  /**
   * Reach the host through this bastion (OpenSSH's ProxyJump): the name of
   * another inventory host, or `[user@]address[:port]`; `none` for a direct
   * connection (a bastion set for a whole group does not apply to itself).
   */
  jump?: string
}

/** One host as the engine sees it: everything merged and resolved. */
export interface HostInfo {
  readonly name: string
  readonly address: string
  readonly port: number
  readonly user: string
  readonly become: boolean
  /** Every group the host belongs to, directly or through child groups, plus "all". */
  readonly groups: readonly string[]
  /** Merged vars: all < ancestor groups < child groups < host < extra vars. */
  readonly vars: Vars
  readonly ssh: SshSettings
  /** The bastion this host is reached through (resolved from ssh.jump), itself perhaps behind another. */
  readonly jump?: HostInfo
}

export interface GroupInfo {
  readonly name: string
  /** Hosts listed directly in this group. */
  readonly hosts: readonly string[]
  readonly children: readonly string[]
  readonly vars: Vars
}

/** A loaded inventory, whatever its format: hosts and groups resolved, vars merged. */
export interface Inventory {
  /** Where it was loaded from, for error messages. */
  readonly source: string
  readonly hosts: ReadonlyMap<string, HostInfo>
  readonly groups: ReadonlyMap<string, GroupInfo>
}

/** Where in an inventory file something was said, for errors. */
export interface SourcePosition {
  file: string
  line?: number
  column?: number
}

/** An inventory that cannot be used: names file, line and host. CLI exit 64. */
export class InventoryError extends Error {
  constructor(
    message: string,
    readonly position: SourcePosition,
    readonly host?: string,
  ) {
    const where = position.line ? `${position.file}:${position.line}${position.column ? `:${position.column}` : ''}` : position.file
    super(`${where}: ${host ? `host ${host}: ` : ''}${message}`)
    this.name = 'InventoryError'
  }
}

/**
 * The TypeScript inventory format, as users write it (see defineInventory).
 * `V` types every vars block: `InventoryVars<typeof playbook>` makes a var no
 * role declares, or a value of the wrong type, a compile error.
 */
export interface InventorySpec<V extends Vars = Vars> {
  /** Defaults for every host; a host's own settings win. */
  ssh?: SshSettings
  /** Vars of the implicit group "all". */
  vars?: V
  /** A group's `ssh` settings apply to its hosts (a child group's win, a host's own win over both). */
  groups?: Record<string, { hosts?: string[]; children?: string[]; vars?: V; ssh?: SshSettings }>
  hosts: Record<string, HostSpec<V>>
}
/** One host of a TypeScript inventory: how to reach it, its groups and its vars. */
export interface HostSpec<V extends Vars = Vars> extends SshSettings {
  /** IP address or DNS name; default: the host's name. */
  address?: string
  /** Groups this host belongs to (in addition to groups listing it). */
  groups?: string[]
  vars?: V
}
