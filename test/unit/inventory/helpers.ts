import { buildInventory, type BuildOptions } from '../../../src/inventory/build.ts'
import { parseIniInventory } from '../../../src/inventory/ini.ts'
import { parseYamlInventory } from '../../../src/inventory/yaml.ts'
import { fromSpec } from '../../../src/inventory/typescript.ts'
import type { Inventory, InventorySpec } from '../../../src/inventory/types.ts'

/** Build an inventory from inline text, as if read from a file of that name. */
export const fromYaml = (text: string, opts?: BuildOptions, file = 'inv.yml'): Inventory => buildInventory(parseYamlInventory(text, file), opts)
export const fromIni = (text: string, opts?: BuildOptions, file = 'inv.ini'): Inventory => buildInventory(parseIniInventory(text, file), opts)
export const fromTs = (spec: InventorySpec, opts?: BuildOptions, file = 'inv.ts'): Inventory => buildInventory(fromSpec(spec, file), opts)

/** Strip the common indentation of a template literal, so inline files read naturally. */
export function text(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = String.raw({ raw: strings }, ...values).replace(/^\n/, '')
  const indent = Math.min(...raw.split('\n').filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length))
  return raw.split('\n').map((l) => l.slice(indent)).join('\n')
}
