import type { InventorySpec, Vars } from './types.ts'

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
 */
export function defineInventory<V extends Vars = Vars>(spec: InventorySpec<V>): InventorySpec {
  return spec as InventorySpec
}
