import { createHash } from 'node:crypto'
import { UsageError } from '../core/errors.ts'
import type { Inventory } from '../inventory/types.ts'
import { selectHosts } from '../inventory/patterns.ts'
import type { Mode } from './events.ts'
import type { Playbook } from './playbook.ts'

/**
 * `--shard K/N`: this process runs shard K (0-based, as Kubernetes'
 * JOB_COMPLETION_INDEX counts) of N over the hosts the run selected.
 *
 * The partition is rendezvous (highest-random-weight) hashing of the host
 * name: a host goes to the shard whose score sha256(name, shard) is highest.
 * A host's shard depends on its own name and N alone, so every shard computes
 * the same partition from the same inventory without talking to the others;
 * adding or removing a host moves no other host; and going from N to N+1
 * shards moves only the ~1/(N+1) of hosts that now score highest on the new
 * shard (hash-mod-N would move almost all of them; slicing the inventory's
 * order, as AWX's job slicing does, moves every host after an insertion).
 */
export interface ShardSpec {
  index: number
  count: number
}

export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim())
  if (!m) throw new UsageError(`--shard ${text}: expected K/N, the shard's index from 0 and the number of shards (e.g. 0/3, 1/3, 2/3)`)
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1) throw new UsageError(`--shard ${text}: N must be at least 1`)
  if (index >= count) throw new UsageError(`--shard ${text}: K counts from 0, so it must be below N (${count})`)
  return { index, count }
}

function score(host: string, shard: number): number {
  return createHash('sha256').update(`${shard}\0${host}`).digest().readUIntBE(0, 6)
}

/** The shard (0..count-1) a host belongs to. */
export function shardOf(host: string, count: number): number {
  let best = 0
  let bestScore = -1
  for (let s = 0; s < count; s++) {
    const sc = score(host, s)
    if (sc > bestScore) {
      best = s
      bestScore = sc
    }
  }
  return best
}

/** The hosts of `hosts` that shard `spec` runs, in their given order. */
export function partition(hosts: readonly string[], spec: ShardSpec): string[] {
  return hosts.filter((h) => shardOf(h, spec.count) === spec.index)
}

/** Every shard's hosts at once, in their given order (one pass). */
export function partitionAll(hosts: readonly string[], count: number): string[][] {
  const out = Array.from({ length: count }, (): string[] => [])
  for (const h of hosts) out[shardOf(h, count)]!.push(h)
  return out
}

/**
 * Why this playbook cannot be split into shards that run apart without
 * changing its result, naming the play; undefined when it can.
 *
 * - `maxFailPercentage`: whether the rollout stops depends on failures in
 *   every shard, which no shard sees (check and apply).
 * - `serial` (apply): a batch size bounds how many hosts change at once; N
 *   shards would each run their own batches at the same time.
 * - more than one play (apply): a play starts when the one before it has
 *   finished on all its hosts (a barrier; a deploy lock taken in one play and
 *   released in an `always` play, a replica configured after its primary,
 *   data read from a host an earlier play set up). Shards run apart, so hosts
 *   of another shard may still be in the earlier play.
 * A check changes nothing, so in check mode barriers and batches leave every
 * host's result as it is and only maxFailPercentage refuses.
 */
export function unshardable(playbook: Playbook, mode: Mode): string | undefined {
  for (const [i, play] of playbook.plays.entries()) {
    const name = `play ${i + 1} "${play.name}"`
    if (play.maxFailPercentage !== undefined) {
      return `${name} has maxFailPercentage ${play.maxFailPercentage}: whether the rollout stops depends on failures in every shard, which no single shard sees`
    }
    if (mode === 'apply' && play.serial !== undefined) {
      return `${name} is a serial rollout (serial: ${play.serial}): each shard would run its own batches at the same time, so more hosts would change at once than the rollout allows`
    }
  }
  if (mode === 'apply' && playbook.plays.length > 1) {
    const second = playbook.plays[1]!
    return (
      `play 2 "${second.name}" starts only when play 1 "${playbook.plays[0]!.name}" has finished on all its hosts (a barrier between plays), ` +
      `and shards run apart, so hosts in other shards could still be in play 1${playbook.plays.some((p) => p.always) ? ' (and an `always` play, such as releasing a deploy lock, would run per shard)' : ''}. ` +
      `Shard a single-play playbook, or run this one without --shard (check mode can be sharded: it changes nothing)`
    )
  }
  return undefined
}

export interface ShardPlan {
  spec: ShardSpec
  /** Every host the run selected, before the split (merge checks each is in exactly one shard). */
  selected: string[]
  /** This shard's hosts. */
  mine: Set<string>
}

/** The hosts the whole run would touch (every play's, within --limit), then this shard's share; refuses unsafe playbooks (exit 64). */
export function planShard(playbook: Playbook, inventory: Inventory, mode: Mode, spec: ShardSpec, limit: ReadonlySet<string> | undefined): ShardPlan {
  const why = unshardable(playbook, mode)
  if (why) throw new UsageError(`--shard ${spec.index}/${spec.count}: cannot split this playbook safely: ${why}`)
  const selected = new Set<string>()
  for (const play of playbook.plays) for (const h of selectHosts(inventory, play.hosts)) if (!limit || limit.has(h)) selected.add(h)
  const all = [...selected]
  return { spec, selected: all, mine: new Set(partition(all, spec)) }
}
