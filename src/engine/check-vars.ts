import type { Inventory } from '../inventory/types.ts'
import { selectHosts } from '../inventory/patterns.ts'
import type { Playbook, Role } from './playbook.ts'
import { checkVars, closestName, declaredByAnyRole } from './role-vars.ts'

/**
 * Every host's vars against every role it will run, before the run touches
 * any host: a missing required var, a wrong type, a plain string where a
 * secret is due, or a var that no role declares but is close to a declared
 * one (a misspelling that would otherwise fall back to a default). Each
 * problem names the inventory file, the host and the role.
 */
export class VarsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the inventory's vars do not fit the playbook's roles; nothing was run:\n  ${problems.join('\n  ')}`)
    this.name = 'VarsError'
  }
}

export function checkPlaybookVars(playbook: Playbook, inventory: Inventory, limit?: ReadonlySet<string>): void {
  const rolesOf = new Map<string, Role[]>()
  for (const play of playbook.plays) {
    for (const host of selectHosts(inventory, play.hosts)) {
      if (limit && !limit.has(host)) continue
      const list = rolesOf.get(host) ?? []
      for (const r of play.roles) if (!list.includes(r)) list.push(r)
      rolesOf.set(host, list)
    }
  }
  const problems: string[] = []
  // hosts share their group vars and roles: each undeclared name is compared with a role set's names once per run
  const nearest = new Map<string, string | undefined>()
  const roleIds = new Map<Role, number>()
  for (const [name, roles] of rolesOf) {
    const rolesKey = roles.map((r) => roleIds.get(r) ?? roleIds.set(r, roleIds.size).get(r)).join(',')
    const vars = inventory.hosts.get(name)!.vars
    const where = `${inventory.source}: host ${name}`
    const declared = new Map<string, string>() // var -> the first role declaring it
    for (const r of roles) {
      if (!r.vars) continue
      for (const v of Object.keys(r.vars)) if (!declared.has(v)) declared.set(v, r.name)
      for (const p of checkVars(r.vars, vars)) problems.push(`${where}: role ${r.name}: ${p.message}`)
    }
    for (const v of Object.keys(vars)) {
      if (declared.has(v) || declaredByAnyRole(v) || /^(ansible|muster)_/.test(v)) continue
      const key = `${rolesKey}\0\0${v}`
      if (!nearest.has(key)) nearest.set(key, closestName(v, declared.keys()))
      const close = nearest.get(key)
      if (close) problems.push(`${where}: role ${declared.get(close)}: unknown var "${v}" (did you mean ${close}?)`)
    }
  }
  if (problems.length > 0) throw new VarsError(problems)
}
