import { isSecret, type Secret } from '../core/secret.ts'
import { editDistance } from '../core/did-you-mean.ts'
import type { Vars } from '../inventory/types.ts'

/**
 * What a role declares about each var it reads: its type, whether a host must
 * set it, its default, whether it must be a secret, and what it is for. Written
 * once, it gives the role typed `ctx.vars`, the pre-flight check of every
 * host's vars before a run touches anything, `muster vars`, and the types a
 * TypeScript inventory is checked against (`InventoryVars`).
 */

/** A type a var can have: its name as `muster vars` prints it, and the test a value must pass. */
export interface VarKind<T> {
  readonly type: string
  is(value: unknown): value is T
}

const kind = <T>(type: string, is: (v: unknown) => boolean): VarKind<T> => ({ type, is: is as (v: unknown) => v is T })

/** The kinds of vars the built-in builders cover; `roleVar.of(kind, ...)` takes any other. */
export const varKinds = {
  string: kind<string>('string', (v) => typeof v === 'string'),
  integer: kind<number>('integer', (v) => Number.isInteger(v)),
  number: kind<number>('number', (v) => typeof v === 'number' && Number.isFinite(v)),
  boolean: kind<boolean>('boolean', (v) => typeof v === 'boolean'),
  secret: kind<Secret>('Secret', isSecret),
  /** A list whose every item is of `item`. */
  list: <T>(item: VarKind<T>): VarKind<T[]> => kind<T[]>(`${item.type.includes(' ') ? `(${item.type})` : item.type}[]`, (v) => Array.isArray(v) && v.every((x) => item.is(x))),
  /** A mapping of names to values of `item`. */
  record: <T>(item: VarKind<T>): VarKind<Record<string, T>> =>
    kind<Record<string, T>>(`{ [name]: ${item.type} }`, (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && !isSecret(v) && Object.values(v).every((x) => item.is(x))),
  /** Either kind. */
  either: <A, B>(a: VarKind<A>, b: VarKind<B>): VarKind<A | B> => kind<A | B>(`${a.type} | ${b.type}`, (v) => a.is(v) || b.is(v)),
}

/** What `roleVar.*` takes: a description, and a default or `required`. */
export interface VarOptions<T> {
  /** One line: what the var is for (printed by `muster vars`). */
  description: string
  /** Used when no inventory layer sets the var (`[]` and `{}` literals are read-only under `const` inference). */
  default?: T | Readonly<T>
  /** The run is refused when a host lacks it (never with a default). */
  required?: boolean
}

/** A declared var. `P` is true when a value is always there (required, or with a default); `R` when a host must set it. */
export interface VarSpec<T, P extends boolean = boolean, R extends boolean = boolean> {
  readonly kind: VarKind<T>
  readonly description: string
  readonly default: T | undefined
  readonly required: R
  /** The value must be a Secret (a plain string is refused): it never reaches output. */
  readonly secret: boolean
  /** Type-level only: whether a role always sees a value. */
  readonly present?: P
}

type Present<O> = O extends { default: unknown } ? true : O extends { required: true } ? true : false
type IsRequired<O> = O extends { required: true } ? true : false

/** Declare a var of any kind. */
function of<T, const O extends VarOptions<T>>(k: VarKind<T>, opts: O): VarSpec<T, Present<O>, IsRequired<O>> {
  if (opts.required && opts.default !== undefined) throw new Error('a var with a default cannot be required: the default always applies')
  if (opts.default !== undefined && !k.is(opts.default)) throw new Error(`default ${JSON.stringify(opts.default)} is not a ${k.type}`)
  return { kind: k, description: opts.description, default: opts.default, required: (opts.required ?? false) as IsRequired<O>, secret: k.type.includes('Secret') }
}

/** Builders for a role's var declarations: `roleVar.integer({ required: true, description: '...' })`. */
export const roleVar = {
  of,
  string: <const O extends VarOptions<string>>(o: O) => of(varKinds.string, o),
  integer: <const O extends VarOptions<number>>(o: O) => of(varKinds.integer, o),
  number: <const O extends VarOptions<number>>(o: O) => of(varKinds.number, o),
  boolean: <const O extends VarOptions<boolean>>(o: O) => of(varKinds.boolean, o),
  secret: <const O extends VarOptions<Secret>>(o: O) => of(varKinds.secret, o),
  stringList: <const O extends VarOptions<string[]>>(o: O) => of(varKinds.list(varKinds.string), o),
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
/** A role's declared vars, by name. */
export type VarDecls = Record<string, VarSpec<any>>

type ValueOf<S> = S extends VarSpec<infer T, infer P> ? (P extends true ? T : T | undefined) : never
/** `ctx.vars` of a role with declarations `D`: defaults applied, optional ones possibly undefined. */
export type VarValues<D extends VarDecls> = { readonly [K in keyof D]: ValueOf<D[K]> }

/** The names of the vars in `D` that a host must set (declared `required: true`). */
export type RequiredVarNames<D extends VarDecls> = { [K in keyof D]: D[K] extends { readonly required: true } ? K : never }[keyof D] & string

type InputOf<S> = S extends VarSpec<infer T> ? T : never
/** What an inventory may set for declarations `D`: every var optional (a group or another layer may set it), each of its type. */
export type VarInputs<D extends VarDecls> = { [K in keyof D]?: InputOf<D[K]> }

/**
 * Every var name any role of this process declares: a var the playbook's own
 * roles do not read may be another playbook's (monitoring vars in an inventory
 * shared with site.ts), and is then no misspelling.
 */
const declaredAnywhere = new Set<string>()
export function registerDeclarations(decls: VarDecls): void {
  for (const name of Object.keys(decls)) declaredAnywhere.add(name)
}
export function declaredByAnyRole(name: string): boolean {
  return declaredAnywhere.has(name)
}

/** One thing wrong with a host's vars for a role. */
export interface VarProblem {
  readonly varName: string
  readonly message: string
}

/** Check `vars` against `decls`: missing required vars, wrong types, plain strings where secrets are due. */
export function checkVars(decls: VarDecls, vars: Vars): VarProblem[] {
  const problems: VarProblem[] = []
  for (const [name, spec] of Object.entries(decls)) {
    const v = vars[name]
    if (v === undefined || v === null) {
      if (spec.required) problems.push({ varName: name, message: `var "${name}" is required but not set (${spec.kind.type}: ${spec.description})` })
      continue
    }
    if (spec.kind.is(v)) continue
    if (spec.secret && typeof v === 'string') {
      problems.push({ varName: name, message: `var "${name}" is a plain string where a Secret is required: write \`!vault NAME\` or \`!env NAME\` in a YAML/INI inventory, vault(...).get() or secret() in a TypeScript one` })
      continue
    }
    problems.push({ varName: name, message: `var "${name}" must be ${spec.kind.type}, got ${describe(v)}` })
  }
  return problems
}

/** The vars a role sees: the host's, with each declared var's default where the host sets none. */
export function withDefaults(decls: VarDecls, vars: Vars): Vars {
  const out: Vars = { ...vars }
  for (const [name, spec] of Object.entries(decls)) if ((out[name] === undefined || out[name] === null) && spec.default !== undefined) out[name] = spec.default
  return out
}

/** A declared name `name` is probably a misspelling of: same letters in another case, or at most two edits away (the CLI's edit distance, src/core/did-you-mean.ts). */
export function closestName(name: string, declared: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  const limit = name.length >= 8 ? 2 : 1
  for (const d of declared) {
    if (d === name) return undefined
    // every run asks this of each host's vars against its roles' declarations: the lengths alone rule out most pairs
    const distance = d.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, d, limit)
    if (distance < bestDistance) [best, bestDistance] = [d, distance]
  }
  return bestDistance <= limit ? best : undefined
}


function describe(v: unknown): string {
  if (isSecret(v)) return 'a Secret'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`
  if (typeof v === 'object') return 'a mapping'
  return `${typeof v} ${String(v)}`
}
