import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { compileTsModule, importCompiled, ModuleLoadError, type CompiledModule } from '../core/ts-module.ts'
import { typecheckPlaybook } from './typecheck.ts'
import { UsageError } from '../core/errors.ts'
import { userFrames, userLocation } from '../core/user-frames.ts'
import type { Playbook } from '../engine/playbook.ts'

/**
 * Compile a playbook, type-check it (the verdict cached by its sources), then
 * import it and check that its default export is a playbook.
 */
export async function loadPlaybook(file: string, opts: { typecheck: boolean }): Promise<Playbook> {
  const path = resolve(file)
  if (!existsSync(path)) throw new UsageError(`${file}: no such playbook file`)
  let compiled: CompiledModule
  try {
    compiled = await compileTsModule(path)
  } catch (err) {
    if (err instanceof ModuleLoadError) throw new UsageError(`${file} cannot be compiled:\n${err.message}`)
    throw err
  }
  if (opts.typecheck) typecheckPlaybook(path, compiled.stamp)
  let mod: { default?: unknown }
  try {
    mod = (await importCompiled(compiled)) as { default?: unknown }
  } catch (err) {
    const at = userLocation(err)
    throw new UsageError(`${file}: the playbook threw while loading: ${at ? `${at}: ` : ''}${firstLine(err)}`, userFrames(err))
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
