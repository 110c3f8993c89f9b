import type { Resource, Handler } from '../contract/resource.ts'
import type { HostInfo, Inventory, Vars } from '../inventory/types.ts'
import type { HostFacts } from './host-facts.ts'
import { defaultPattern, type HostsFromVars } from './play-hosts.ts'
import { registerDeclarations, withDefaults, type RequiredVarNames, type VarDecls, type VarInputs, type VarValues } from './role-vars.ts'

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

/** What a role returns: resources, nested lists, or `false`/`null`/`undefined` for a resource left out. */
export type RoleItem = Resource | readonly RoleItem[] | false | null | undefined

/** A named function from a host's context to resources, with its declared vars (see `role()`). */
export interface Role {
  readonly kind: 'role'
  readonly name: string
  readonly build: (ctx: HostContext) => RoleItem[]
  /** The vars the role reads, declared (see roleVar): checked on every host before a run touches any. */
  readonly vars?: VarDecls
  /** One line on what the role does (`muster vars`). */
  readonly description?: string
}

/** A role with declared vars `D`. */
export interface TypedRole<D extends VarDecls> extends Role {
  readonly vars: D
}

/** What a role with declared vars sees: `vars` holds exactly the declared ones, typed, defaults applied. */
export interface RoleContext<D extends VarDecls> extends Omit<HostContext, 'vars'> {
  readonly vars: VarValues<D>
}

/** What `role(name, declaration, build)` declares: the vars and a one-line description. */
export interface RoleDeclaration<D extends VarDecls> {
  vars: D
  description?: string
}

/**
 * A role is a function from a host's context to its resources, in order.
 * Declare its vars (`role('nginx', { vars: { appPort: roleVar.integer({...}) } }, (ctx) => ...)`)
 * and `ctx.vars` is typed, every host's vars are checked before the run, and
 * inventories can be type-checked against them (`InventoryVars`).
 */
export function role<const D extends VarDecls>(name: string, declaration: RoleDeclaration<D>, build: (ctx: RoleContext<D>) => RoleItem[]): TypedRole<D>
export function role(name: string, build: (ctx: HostContext) => RoleItem[]): Role
export function role(name: string, a: RoleDeclaration<VarDecls> | ((ctx: HostContext) => RoleItem[]), b?: (ctx: RoleContext<VarDecls>) => RoleItem[]): Role {
  if (typeof a === 'function') return { kind: 'role', name, build: a }
  const decls = a.vars
  registerDeclarations(decls)
  const typed = b as unknown as (ctx: HostContext) => RoleItem[]
  // the role sees its declared vars with their defaults, however it is called (the engine, another role, a test)
  const build = (ctx: HostContext): RoleItem[] => typed(Object.create(ctx, { vars: { value: withDefaults(decls, ctx.vars), enumerable: true } }) as HostContext)
  return { kind: 'role', name, build, vars: decls, ...(a.description ? { description: a.description } : {}) }
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never
type DeclsOf<R> = R extends TypedRole<infer D> ? VarInputs<D> : R extends Playbook<infer P> ? DeclsOf<P> : {}
/**
 * The vars an inventory may set for these roles or playbooks, each of its
 * declared type: `defineInventory<InventoryVars<typeof site>>({...})` makes a
 * misspelled var, a wrong type or a plain string for a secret a compile error.
 */
export type InventoryVars<R> = UnionToIntersection<DeclsOf<R>> extends infer V ? { [K in keyof V]: V[K] } : never

type RequiredOf<R> = R extends TypedRole<infer D> ? RequiredVarNames<D> : R extends Playbook<infer P> ? RequiredOf<P> : never
/** The vars these roles or playbooks require (declared `required: true`): `inventoryFor` refuses to compile an inventory that sets one nowhere. */
export type RequiredVars<R> = RequiredOf<R>

/** `serial`: a host count per batch, or a percentage of the play's hosts. */
export type Serial = number | `${number}%`

/** What a play is: where (`hosts`), what (`roles`), and how to roll it out. */
export interface PlayOptions<R extends Role = Role> {
  /** Shown in reports; defaults to the host pattern and role names. */
  name?: string
  /**
   * Inventory host pattern: names, groups, globs, `a:b`, `!x`, `&x`; or one
   * made of declared vars, `hostsFrom(groupVars, (g) => g.webGroup)`, so the
   * inventory names its own groups.
   */
  hosts: string | HostsFromVars
  roles: readonly R[]
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
  /**
   * In apply, run this play only when no host has failed or been unreachable
   * earlier in the run; otherwise its hosts are not started and the play says
   * which hosts failed. For a step that is safe only once every host did its
   * part, such as dropping the old password of a rotation that a failed host
   * may still use. A check plans it as usual: it predicts the run in which
   * every host succeeds, so each host's result stays its own. Default false.
   */
  onlyIfNoFailures?: boolean
}

/** A play as the engine runs it (see `play()` and `PlayOptions`). */
export interface Play<R extends Role = Role> extends Required<Pick<PlayOptions<R>, 'name' | 'roles'>> {
  readonly kind: 'play'
  /** The host pattern (with hostsFrom: made from the declared defaults until bindPlaybook makes it from an inventory's vars). */
  readonly hosts: string
  /** Where the pattern comes from when it is made of vars. */
  readonly hostsFrom?: HostsFromVars
  readonly serial: Serial | undefined
  readonly maxFailPercentage: number | undefined
  readonly gatherFacts: boolean
  readonly always: boolean
  readonly onlyIfNoFailures: boolean
}

/** A play: a host pattern and the roles to run there, with its rollout options. */
export function play<R extends Role>(opts: PlayOptions<R>): Play<R> {
  if (opts.maxFailPercentage !== undefined && (opts.maxFailPercentage < 0 || opts.maxFailPercentage > 100)) {
    throw new RangeError(`maxFailPercentage must be 0..100, got ${opts.maxFailPercentage}`)
  }
  const from = typeof opts.hosts === 'string' ? undefined : opts.hosts
  const hosts = from ? defaultPattern(from) : (opts.hosts as string)
  return {
    kind: 'play',
    name: opts.name ?? `${hosts}: ${opts.roles.map((r) => r.name).join(', ')}`,
    hosts,
    ...(from ? { hostsFrom: from } : {}),
    roles: opts.roles,
    serial: opts.serial,
    maxFailPercentage: opts.maxFailPercentage,
    gatherFacts: opts.gatherFacts ?? true,
    always: opts.always ?? false,
    onlyIfNoFailures: opts.onlyIfNoFailures ?? false,
  }
}

/** Plays in order, as `muster apply` runs them (see `playbook()`). */
export interface Playbook<R extends Role = Role> {
  readonly kind: 'playbook'
  readonly plays: readonly Play[]
  /** Type-level only: the roles it runs (for InventoryVars). */
  readonly roles?: R
}

// the roles of every play, each keeping its own declarations (an array's inferred element type would merge them into Role)
type RolesOf<P extends readonly (Play | PlayOptions)[]> = P[number]['roles'][number]

/** A playbook is plays in order; each finishes on all its hosts before the next starts. */
export function playbook<const P extends readonly (Play | PlayOptions)[]>(...plays: P): Playbook<RolesOf<P>> {
  return { kind: 'playbook', plays: plays.map((p) => ('kind' in p ? (p as Play) : play(p))) }
}

/** One resource of an expanded play, with what the engine needs to know about it. */
export interface PlannedItem {
  readonly resource: Resource
  readonly role: string
  readonly tags: readonly string[]
}

/** `ctx.need(name)` found no such var on the host: exit 64, naming host and var. */
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
