import type { InventorySpec } from './types.ts'

/**
 * The TypeScript inventory format. An identity function: it exists so an
 * inventory file gets the types (and editor completion) of InventorySpec.
 *
 *   export default defineInventory({ hosts: { 'web-01': { address: '10.0.0.11' } } })
 */
export function defineInventory(spec: InventorySpec): InventorySpec {
  return spec
}
