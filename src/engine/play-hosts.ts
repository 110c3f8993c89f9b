import { didYouMean } from '../core/did-you-mean.ts'
import { PatternError, selectHosts } from '../inventory/patterns.ts'
import type { Inventory } from '../inventory/types.ts'
import type { Play, Playbook } from './playbook.ts'
import { checkVars, closestName, declaredByAnyRole, registerDeclarations, withDefaults, type VarDecls, type VarValues } from './role-vars.ts'
import { VarsError } from './check-vars.ts'

/**
 * A play's hosts from declared vars, so a playbook fits the inventory's own
 * group names: `hosts: hostsFrom(stackGroupVars, (g) => g.webGroup)` runs on
 * the group the inventory names in `webGroup` ([all:vars], the `all` vars of
 * a YAML or TypeScript inventory, or `-e webGroup=webservers`), and on the
 * declared default (`web`) when it names none.
 */
export interface HostsFromVars {
  readonly kind: 'hosts-from-vars'
  readonly vars: VarDecls
  /** The pattern for these var values (defaults applied). */
  readonly pattern: (vars: Readonly<Record<string, unknown>>) => string
}

/** Declare a play's hosts as a pattern made of vars (see HostsFromVars). */
export function hostsFrom<const D extends VarDecls>(vars: D, pattern: (vars: VarValues<D>) => string): HostsFromVars {
  registerDeclarations(vars)
  return { kind: 'hosts-from-vars', vars, pattern: pattern as (vars: Readonly<Record<string, unknown>>) => string }
}

/** The pattern of `from` with only the declared defaults. */
export function defaultPattern(from: HostsFromVars): string {
  return from.pattern(withDefaults(from.vars, {}))
}

/**
 * The playbook with each play's hosts pattern made from this inventory's vars
 * (a play with a literal pattern is left as it is). A var that decides a
 * play's hosts must have one value for every host (set it for all, or with
 * -e); a var the inventory sets that is close to one of them is a
 * misspelling; a pattern naming no group or host of the inventory says which
 * var made it and how to set it. All exit 64 (VarsError, PatternError) before
 * any host is touched.
 */
export function bindPlaybook(playbook: Playbook, inventory: Inventory): Playbook {
  if (!playbook.plays.some((p) => p.hostsFrom)) return playbook
  const problems: string[] = []
  const hosts = [...inventory.hosts.values()]
  const setNames = new Set(hosts.flatMap((h) => Object.keys(h.vars)))
  const resolved = playbook.plays.map((p) => {
    const from = p.hostsFrom
    if (!from) return undefined
    // only the vars the pattern reads decide the play's hosts
    const used = new Set<string>()
    const defaults = withDefaults(from.vars, {})
    from.pattern(new Proxy(defaults, { get: (t, k) => (typeof k === 'string' && used.add(k), Reflect.get(t, k)) }))
    const values: Record<string, unknown> = {}
    for (const name of used) {
      const spec = from.vars[name]
      if (!spec) continue
      const seen = new Map<string, string[]>() // JSON of a value -> hosts with it
      for (const h of hosts) {
        const v = h.vars[name]
        if (v === undefined) continue
        const key = JSON.stringify(v)
        seen.set(key, [...(seen.get(key) ?? []), h.name])
      }
      if (seen.size > 1) {
        const which = [...seen].map(([v, hs]) => `${v} on ${hs.slice(0, 3).join(', ')}${hs.length > 3 ? ', ...' : ''}`).join('; ')
        problems.push(`${inventory.source}: var "${name}" decides the hosts of play "${p.name}" and must have one value for the whole inventory (set it in the all vars or with -e ${name}=...), it has ${which}`)
        continue
      }
      const only = [...seen.keys()][0]
      if (only !== undefined) {
        values[name] = JSON.parse(only)
        const setOn = seen.get(only)!.length
        if (setOn < hosts.length) problems.push(`${inventory.source}: var "${name}" decides the hosts of play "${p.name}" and must be set for the whole inventory (all vars or -e ${name}=...), not for ${setOn} of its ${hosts.length} hosts`)
      } else {
        const close = [...setNames].find((n) => !declaredByAnyRole(n) && closestName(n, [name]) === name)
        if (close) problems.push(`${inventory.source}: unknown var "${close}" (did you mean ${name}? it decides the hosts of play "${p.name}")`)
      }
      for (const msg of checkVars({ [name]: spec }, values)) problems.push(`${inventory.source}: play "${p.name}": ${msg.message}`)
    }
    return { used: [...used], values, defaults }
  })
  if (problems.length > 0) throw new VarsError([...new Set(problems)])
  const plays = playbook.plays.map((p, i): Play => {
    const from = p.hostsFrom
    const r = resolved[i]
    if (!from || !r) return p
    const pattern = from.pattern(withDefaults(from.vars, r.values))
    try {
      selectHosts(inventory, pattern)
    } catch (err) {
      if (!(err instanceof PatternError)) throw err
      const how = r.used.map((n) => (n in r.values ? `${n}=${JSON.stringify(r.values[n])} (from the inventory)` : `${n}=${JSON.stringify(r.defaults[n])} (its default: the inventory does not set ${n})`)).join(', ')
      const groups = [...inventory.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped')
      const first = r.used[0] ?? 'GROUP_VAR'
      throw new PatternError(
        `play "${p.name}": hosts '${pattern}' made from ${how}: ${err.message}${didYouMean(pattern, groups)}; name your group in the inventory's all vars ([all:vars] ${first}=GROUP) or with -e ${first}=GROUP (groups: ${groups.join(', ') || 'none'})`,
        err.pattern,
      )
    }
    return { ...p, hosts: pattern }
  })
  return { ...playbook, plays }
}
