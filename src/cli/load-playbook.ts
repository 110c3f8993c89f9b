import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { importTsModule } from '../core/ts-module.ts'
import { UsageError } from '../core/errors.ts'
import type { Playbook } from '../engine/playbook.ts'

/** Import a playbook module and check that its default export is a playbook. */
export async function loadPlaybook(file: string): Promise<Playbook> {
  const path = resolve(file)
  if (!existsSync(path)) throw new UsageError(`${file}: no such playbook file`)
  let mod: { default?: unknown }
  try {
    mod = (await importTsModule(path)) as { default?: unknown }
  } catch (err) {
    throw new UsageError(`${file}: the playbook threw while loading: ${firstLine(err)}`)
  }
  const pb = mod.default as Partial<Playbook> | undefined
  if (!pb || pb.kind !== 'playbook' || !Array.isArray(pb.plays)) {
    throw new UsageError(`${file}: its default export is not a playbook (write \`export default playbook(...)\`)`)
  }
  return pb as Playbook
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err)
  return msg.split('\n').slice(0, 6).join('\n')
}
