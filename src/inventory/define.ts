import type { InventorySpec, Vars } from './types.ts'
import type { InventoryVars, RequiredVars } from '../engine/playbook.ts'

/**
 * The TypeScript inventory format. An identity function: it exists so an
 * inventory file gets the types (and editor completion) of InventorySpec.
 *
 *   export default defineInventory({ hosts: { 'web-01': { address: '10.0.0.11' } } })
 *
 * With the vars the roles declare, a misspelled var, a wrong type or a plain
 * string where a secret is due does not compile:
 *
 *   export default defineInventory<InventoryVars<typeof site>>({ ... })
 *
 * `inventoryFor<typeof site>()({ ... })` checks the same and also that every
 * var the playbook's roles require is set somewhere.
 */
export function defineInventory<V extends Vars = Vars>(spec: InventorySpec<V>): InventorySpec {
  return spec as InventorySpec
}

type VarsKeys<X> = X extends { vars?: infer A } ? (A extends object ? keyof A : never) : never
type EachVarsKeys<M> = M extends object ? { [K in keyof M]-?: VarsKeys<M[K]> }[keyof M] : never
/** Every var name an inventory spec sets, in any layer: all, a group, a host. */
type SetAnywhere<S> = VarsKeys<S> | (S extends { groups?: infer G } ? EachVarsKeys<G> : never) | (S extends { hosts: infer H } ? EachVarsKeys<H> : never)
type Missing<P, S> = Exclude<RequiredVars<P>, SetAnywhere<S>>
type VarsOf<P> = InventoryVars<P> extends infer V extends Vars ? V : never
/** A compile error naming the required vars an inventory sets nowhere. */
type RequiredSet<P, S> = [Missing<P, S>] extends [never] ? unknown : { 'required var set nowhere in this inventory': Missing<P, S> }

/**
 * A TypeScript inventory checked against a playbook (or roles) at compile
 * time: a var no role declares (with "did you mean"), a value of the wrong
 * type, a plain string where a Secret is due, and a required var that no
 * layer (all, group or host) sets are type errors. Curried, because the
 * playbook is named and the inventory's own shape is inferred:
 *
 *   import type site from './playbooks/site.ts'
 *   export default inventoryFor<typeof site>()({ vars: {...}, groups: {...}, hosts: {...} })
 *
 * Which host needs a required var depends on its groups: the pre-flight
 * check before a run still checks each host.
 */
export function inventoryFor<P>(): <const S extends InventorySpec<VarsOf<P>>>(spec: S & NoInfer<RequiredSet<P, S>>) => InventorySpec {
  return (spec) => spec as InventorySpec
}
