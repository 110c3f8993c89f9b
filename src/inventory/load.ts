import { readFile, stat } from 'node:fs/promises'
import { extname } from 'node:path'
import { InventoryError, type Inventory } from './types.ts'
import type { RawInventory } from './raw.ts'
import { buildInventory, type BuildOptions } from './build.ts'
import { parseIniInventory } from './ini.ts'
import { parseYamlInventory } from './yaml.ts'
import { loadTypeScriptInventory } from './typescript.ts'

export type InventoryFormat = 'typescript' | 'yaml' | 'ini'

const formats: Record<string, InventoryFormat> = {
  '.ts': 'typescript', '.mts': 'typescript', '.js': 'typescript', '.mjs': 'typescript',
  '.yml': 'yaml', '.yaml': 'yaml', '.json': 'yaml',
  '.ini': 'ini', '.cfg': 'ini', '.hosts': 'ini', '': 'ini',
}

/** The format a file is read as, by its extension (Ansible's `hosts` file has none: INI). */
export function inventoryFormat(file: string): InventoryFormat {
  const ext = extname(file).toLowerCase()
  const format = Object.hasOwn(formats, ext) ? formats[ext] : undefined
  if (!format) {
    throw new InventoryError(`unknown inventory format '${ext}' (use .ts/.mts/.js/.mjs, .yml/.yaml/.json, or .ini/.cfg/.hosts)`, { file })
  }
  return format
}

export async function loadInventory(file: string, opts: BuildOptions = {}): Promise<Inventory> {
  return buildInventory(await readRawInventory(file), opts)
}

export async function readRawInventory(file: string): Promise<RawInventory> {
  const format = inventoryFormat(file)
  const info = await stat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new InventoryError('no such inventory file', { file })
    throw new InventoryError(`cannot read inventory: ${e.message}`, { file })
  })
  if (!info.isFile()) throw new InventoryError('not a file (inventory directories are not supported)', { file })
  if (format === 'typescript') return loadTypeScriptInventory(file)
  const text = await readFile(file, 'utf8')
  return format === 'yaml' ? parseYamlInventory(text, file) : parseIniInventory(text, file)
}
