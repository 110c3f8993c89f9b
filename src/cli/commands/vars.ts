import type { CommandModule } from 'yargs'
import { existsSync } from 'node:fs'
import { importTsModule, ModuleLoadError } from '../../core/ts-module.ts'
import { ExitCode, UsageError } from '../../core/errors.ts'
import { isSecret } from '../../core/secret.ts'
import type { Playbook, Role } from '../../engine/playbook.ts'
import { defaultWrite } from '../reporter.ts'

interface VarsArgs {
  module: string
  role?: string
  json: boolean
}

export const varsCommand: CommandModule<object, VarsArgs> = {
  command: 'vars <module> [role]',
  describe: "List the vars a playbook's roles (or a role module's) declare: type, default, required, secret, what for",
  builder: (y) =>
    y
      .positional('module', { type: 'string', demandOption: true, describe: 'a playbook, or a module exporting roles (a role package)' })
      .positional('role', { type: 'string', describe: 'only this role (its name as `role(name, ...)` gives it)' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON line per role' })
      .example('$0 vars playbooks/site.ts', 'every var the reference stack reads')
      .example('$0 vars roles/mysql/index.ts mysql-server', 'the vars of one role') as never,
  handler: async (args) => {
    process.exitCode = await listVars(args)
  },
}

export async function listVars(args: VarsArgs, out: (line: string) => void = defaultWrite): Promise<number> {
  if (!existsSync(args.module)) throw new UsageError(`${args.module}: no such file`)
  let mod: Record<string, unknown>
  try {
    mod = await importTsModule(args.module)
  } catch (err) {
    if (err instanceof ModuleLoadError) throw new UsageError(`${args.module} cannot be compiled:\n${err.message}`)
    throw new UsageError(`${args.module}: it threw while loading: ${(err as Error).message}`)
  }
  let roles = rolesIn(mod)
  if (args.role !== undefined) {
    const found = roles.filter((r) => r.name === args.role)
    if (found.length === 0) throw new UsageError(`${args.module} has no role "${args.role}" (it has ${roles.map((r) => r.name).join(', ') || 'none'})`)
    roles = found
  }
  if (roles.length === 0) throw new UsageError(`${args.module} neither is a playbook nor exports roles`)
  for (const r of roles) {
    if (args.json) out(JSON.stringify(roleVarsJson(r)))
    else for (const line of roleVarsText(r)) out(line)
  }
  return ExitCode.ok
}

/** A playbook's roles in play order, then the roles the module exports; each once. */
function rolesIn(mod: Record<string, unknown>): Role[] {
  const out: Role[] = []
  const add = (r: unknown): void => {
    if (r && typeof r === 'object' && (r as Role).kind === 'role' && !out.includes(r as Role)) out.push(r as Role)
  }
  const pb = mod.default as Partial<Playbook> | undefined
  if (pb?.kind === 'playbook') for (const p of pb.plays ?? []) p.roles.forEach(add)
  Object.values(mod).forEach(add)
  return out
}

const shown = (v: unknown): string => (isSecret(v) ? '***' : JSON.stringify(v))

export function roleVarsText(r: Role): string[] {
  const lines = [`${r.name}${r.description ? `: ${r.description}` : ''}`]
  const decls = Object.entries(r.vars ?? {})
  if (!r.vars) lines.push('  (declares no vars: it is not checked before a run)')
  const width = Math.max(0, ...decls.map(([n]) => n.length))
  const typeWidth = Math.max(0, ...decls.map(([, s]) => s.kind.type.length))
  const when = decls.map(([, s]) => `${s.required ? 'required' : s.default !== undefined ? `default ${shown(s.default)}` : 'optional'}${s.secret ? ', secret' : ''}`)
  const whenWidth = Math.max(0, ...when.map((w) => w.length))
  for (const [i, [name, s]] of decls.entries()) lines.push(`  ${name.padEnd(width)}  ${s.kind.type.padEnd(typeWidth)}  ${when[i]!.padEnd(whenWidth)}  ${s.description}`)
  return lines
}

export function roleVarsJson(r: Role) {
  return {
    type: 'role',
    role: r.name,
    ...(r.description ? { description: r.description } : {}),
    vars: Object.fromEntries(Object.entries(r.vars ?? {}).map(([n, s]) => [n, { type: s.kind.type, required: s.required, secret: s.secret, ...(s.default !== undefined ? { default: s.default } : {}), description: s.description }])),
  }
}
