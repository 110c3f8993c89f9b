import { didYouMean } from '../core/did-you-mean.ts'
import { PatternError, selectHosts } from '../inventory/patterns.ts'
import type { Inventory } from '../inventory/types.ts'
import type { Playbook, PlannedItem } from './playbook.ts'

/**
 * A selection that selects nothing: a play whose hosts pattern matches no
 * host, a --limit outside every play, a --tags or --skip-tags that no
 * resource carries. A typo there must not pass for "nothing to do" (or, in a
 * check, for "in sync"): exit 64, unless the run allows it (--allow-unmatched).
 */
export class SelectionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? problems[0]! : `nothing selected:\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'SelectionError'
  }
}

export const ALLOW_UNMATCHED_HINT = '(--allow-unmatched runs anyway)'

/**
 * Each play's hosts after --limit, and what matched nothing: a play's own
 * pattern (an unknown name is an error here whatever is allowed, naming the
 * play), or a --limit that leaves no host in any play.
 */
export function playHostsOf(playbook: Playbook, inventory: Inventory, limit: ReadonlySet<string> | undefined, limitLabel: string): { hosts: string[][]; unmatched: string[] } {
  const unmatched: string[] = []
  const hosts = playbook.plays.map((p) => {
    let names: string[]
    try {
      names = selectHosts(inventory, p.hosts)
    } catch (err) {
      if (err instanceof PatternError) throw new PatternError(`play "${p.name}": ${err.message}`, err.pattern)
      throw err
    }
    if (names.length === 0) unmatched.push(`play "${p.name}": hosts '${p.hosts}' match no host of the inventory`)
    return names.filter((h) => !limit || limit.has(h))
  })
  const all = new Set(playbook.plays.flatMap((p) => safeSelect(inventory, p.hosts)))
  if (limit && all.size > 0 && hosts.every((h) => h.length === 0)) {
    unmatched.push(`${limitLabel} selects none of the playbook's hosts (${[...all].slice(0, 8).join(', ')}${all.size > 8 ? ', ...' : ''})`)
  }
  return { hosts, unmatched }
}

function safeSelect(inventory: Inventory, pattern: string): string[] {
  try {
    return selectHosts(inventory, pattern)
  } catch {
    return [] // reported by playHostsOf itself
  }
}

/** The tags of --tags and --skip-tags that no resource of the run carries, with what was meant where one is close. */
export function unmatchedTags(opts: { tags?: readonly string[] | undefined; skipTags?: readonly string[] | undefined }, known: ReadonlySet<string>): string[] {
  const out: string[] = []
  for (const [flag, list] of [['--tags', opts.tags], ['--skip-tags', opts.skipTags]] as const) {
    for (const t of list ?? []) {
      if (!known.has(t)) out.push(`${flag} ${t}: no resource of this run has the tag '${t}'${didYouMean(t, known)}`)
    }
  }
  return out
}

/** The tags a run's resources carry (role names included). */
export function tagsOf(items: Iterable<readonly PlannedItem[]>): Set<string> {
  const tags = new Set<string>()
  for (const list of items) for (const it of list) for (const t of it.tags) tags.add(t)
  return tags
}
