import type { Resource, Handler } from '../contract/resource.ts'
import type { HostInfo, Inventory, Vars } from '../inventory/types.ts'
import type { HostFacts } from './host-facts.ts'

/** What a role sees when it is expanded for one host. */
export interface HostContext {
  readonly host: HostInfo
  readonly name: string
  readonly vars: Vars
  /** A var that must exist: throws MissingVarError naming the host and the var. */
  need<T = string>(name: string): T
  /** Gathered once per host per run (os, release, arch, cpus, memory, addresses). */
  readonly facts: HostFacts
  readonly inventory: Inventory
  /** Hosts matching an inventory pattern, in inventory order ("web", "db:!web-01"). */
  hostsOf(pattern: string): HostInfo[]
}

export type RoleItem = Resource | readonly RoleItem[] | false | null | undefined

export interface Role {
  readonly kind: 'role'
  readonly name: string
  readonly build: (ctx: HostContext) => RoleItem[]
}

/** A role is a function from a host's context to its resources, in order. */
export function role(name: string, build: (ctx: HostContext) => RoleItem[]): Role {
  return { kind: 'role', name, build }
}

/** `serial`: a host count per batch, or a percentage of the play's hosts. */
export type Serial = number | `${number}%`

export interface PlayOptions {
  /** Shown in reports; defaults to the host pattern and role names. */
  name?: string
  /** Inventory host pattern: names, groups, globs, `a:b`, `!x`, `&x`. */
  hosts: string
  roles: readonly Role[]
  /** Run the play in batches (rolling). Default: all hosts at once (up to --forks). */
  serial?: Serial
  /** Stop the play (and the run) when more than this share of its hosts failed. Default: never, only failed hosts stop. */
  maxFailPercentage?: number
  /** Gather host facts before expanding roles (default true; cached for the run). */
  gatherFacts?: boolean
  /**
   * Run this play even when an earlier play stopped the run (maxFailPercentage)
   * or the run was interrupted, on every reachable host of its pattern, those
   * that failed earlier included: for what must happen however the run ends,
   * such as releasing a deploy lock. Default false.
   */
  always?: boolean
}

export interface Play extends Required<Pick<PlayOptions, 'name' | 'hosts' | 'roles'>> {
  readonly kind: 'play'
  readonly serial: Serial | undefined
  readonly maxFailPercentage: number | undefined
  readonly gatherFacts: boolean
  readonly always: boolean
}

export function play(opts: PlayOptions): Play {
  if (opts.maxFailPercentage !== undefined && (opts.maxFailPercentage < 0 || opts.maxFailPercentage > 100)) {
    throw new RangeError(`maxFailPercentage must be 0..100, got ${opts.maxFailPercentage}`)
  }
  return {
    kind: 'play',
    name: opts.name ?? `${opts.hosts}: ${opts.roles.map((r) => r.name).join(', ')}`,
    hosts: opts.hosts,
    roles: opts.roles,
    serial: opts.serial,
    maxFailPercentage: opts.maxFailPercentage,
    gatherFacts: opts.gatherFacts ?? true,
    always: opts.always ?? false,
  }
}

export interface Playbook {
  readonly kind: 'playbook'
  readonly plays: readonly Play[]
}

/** A playbook is plays in order; each finishes on all its hosts before the next starts. */
export function playbook(...plays: (Play | PlayOptions)[]): Playbook {
  return { kind: 'playbook', plays: plays.map((p) => ('kind' in p ? (p as Play) : play(p))) }
}

/** One resource of an expanded play, with what the engine needs to know about it. */
export interface PlannedItem {
  readonly resource: Resource
  readonly role: string
  readonly tags: readonly string[]
}

export class MissingVarError extends Error {
  /** The message without the host, for reports that already name it. */
  readonly detail: string
  constructor(
    readonly host: string,
    readonly varName: string,
  ) {
    const detail = `var "${varName}" is required but not set (set it in the inventory's host or group vars, or with -e ${varName}=...)`
    super(`host ${host}: ${detail}`)
    this.detail = detail
    this.name = 'MissingVarError'
  }
}

/** Flatten a role's items, dropping `false`/`null`/`undefined` (conditional resources). */
export function flattenItems(items: readonly RoleItem[]): Resource[] {
  const out: Resource[] = []
  const walk = (xs: readonly RoleItem[]): void => {
    for (const x of xs) {
      if (!x) continue
      if (Array.isArray(x)) walk(x as readonly RoleItem[])
      else out.push(x as Resource)
    }
  }
  walk(items)
  return out
}

export type { Handler }
