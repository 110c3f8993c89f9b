import type { Inventory } from './types.ts'
import { didYouMean } from '../core/did-you-mean.ts'

/** A host pattern that names nothing, or cannot be read. CLI exit 64. */
export class PatternError extends Error {
  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super(message)
    this.name = 'PatternError'
  }
}

/**
 * Hosts a pattern selects, with Ansible's semantics: `all`/`*`, host and group
 * names, globs, unions (`a:b` or `a,b`), `&x` intersections and `!x`
 * exclusions. Unions are taken first, then intersections, then exclusions,
 * whatever order they are written in (as Ansible does); a pattern of only
 * `&`/`!` terms starts from all hosts. The result is in inventory order.
 *
 * Unlike Ansible, which warns and carries on, a name that is neither a host
 * nor a group, or a glob that matches nothing, is an error: a typo in
 * `--limit` or `!db` must not silently widen or empty a run.
 */
export function selectHosts(inv: Inventory, pattern: string): string[] {
  const terms = splitPattern(pattern)
  const unions = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'))
  const intersections = terms.filter((t) => t.startsWith('&')).map((t) => t.slice(1))
  const exclusions = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1))

  const selected = new Set<string>()
  for (const t of unions.length > 0 ? unions : ['all']) for (const h of matchTerm(inv, t, pattern)) selected.add(h)
  for (const t of intersections) {
    const keep = new Set(matchTerm(inv, t, pattern))
    for (const h of selected) if (!keep.has(h)) selected.delete(h)
  }
  for (const t of exclusions) for (const h of matchTerm(inv, t, pattern)) selected.delete(h)
  return [...inv.hosts.keys()].filter((h) => selected.has(h))
}

/** `--limit`: the hosts of a play that the limit pattern also selects, in the play's order. */
export function limitHosts(inv: Inventory, hosts: readonly string[], limitPattern: string): string[] {
  const allowed = new Set(selectHosts(inv, limitPattern))
  return hosts.filter((h) => allowed.has(h))
}

function splitPattern(pattern: string): string[] {
  const text = pattern.trim()
  if (text === '') throw new PatternError('empty host pattern', pattern)
  // commas when there are any, so IPv6 addresses can be named; colons otherwise
  const terms = (text.includes(',') ? text.split(',') : text.split(':')).map((t) => t.trim())
  for (const t of terms) {
    if (t === '' || t === '!' || t === '&') throw new PatternError(`empty term in host pattern '${pattern}'`, pattern)
  }
  return terms
}

const GLOB = /[*?[]/

function matchTerm(inv: Inventory, term: string, pattern: string): string[] {
  if (term === 'all' || term === '*') return [...inv.hosts.keys()]
  if (!GLOB.test(term)) {
    const out: string[] = []
    if (inv.hosts.has(term)) out.push(term)
    if (inv.groups.has(term)) out.push(...hostsOfGroup(inv, term))
    if (out.length === 0 && !inv.groups.has(term)) {
      throw new PatternError(`unknown host or group '${term}' in pattern '${pattern}'${didYouMean(term, [...inv.hosts.keys(), ...inv.groups.keys()])}`, pattern)
    }
    return out
  }
  const re = globToRegExp(term)
  const out: string[] = []
  let matchedGroup = false
  for (const h of inv.hosts.keys()) if (re.test(h)) out.push(h)
  for (const g of inv.groups.keys()) {
    if (g === 'all' || !re.test(g)) continue
    matchedGroup = true
    out.push(...hostsOfGroup(inv, g))
  }
  if (out.length === 0 && !matchedGroup) throw new PatternError(`'${term}' in pattern '${pattern}' matches no host or group`, pattern)
  return out
}

/** A group's own hosts and those of its children, all the way down. */
function hostsOfGroup(inv: Inventory, name: string): string[] {
  if (name === 'all') return [...inv.hosts.keys()]
  // HostInfo.groups already holds every group reached through children
  return [...inv.hosts.values()].filter((h) => h.groups.includes(name)).map((h) => h.name)
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') re += '.*'
    else if (c === '?') re += '.'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end < 0) {
        re += '\\['
        continue
      }
      const body = glob.slice(i + 1, end)
      re += `[${body.startsWith('!') ? '^' + escapeClass(body.slice(1)) : escapeClass(body)}]`
      i = end
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

function escapeClass(body: string): string {
  return body.replace(/[\\\]^]/g, '\\$&')
}
