import { ExitCode, UsageError } from '../core/errors.ts'
import type { HostRecap, Mode, MusterEvent, Recap, ShardInfo } from '../engine/events.ts'

/**
 * `muster merge`: the `--json` outputs of a run's shards (`--shard K/N`) made
 * into the one event stream, recap and exit code the unsharded run gives.
 * Pure: texts in, events out; reading files and printing is the command's.
 */

export interface ShardText {
  /** For messages: the file it came from. */
  file: string
  text: string
}

export interface MergedRun {
  events: MusterEvent[]
  exitCode: number
  /** Shards missing or ended early: the merged result does not cover their hosts. */
  incomplete: string[]
}

/** Shard outputs that cannot be merged (not JSON lines, from different runs, a host in two shards or none): exit 64. */
export class MergeInputError extends UsageError {}

interface Shard {
  file: string
  start: Extract<MusterEvent, { type: 'run:start' }> & { shard: ShardInfo }
  body: MusterEvent[]
  end?: Extract<MusterEvent, { type: 'run:end' }>
}

/** Single-run precedence (README "Exit codes"): interrupted, then 64, 1, 3, 2, 0. */
const PRECEDENCE: readonly number[] = [ExitCode.interrupted, ExitCode.usage, ExitCode.failed, ExitCode.unreachable, ExitCode.drift, ExitCode.ok]

export function worstExitCode(codes: readonly number[]): number {
  const rank = (c: number): number => {
    const i = PRECEDENCE.indexOf(c)
    return i === -1 ? 0 : i // an exit code the table does not know counts as the worst
  }
  return codes.reduce((a, b) => (rank(b) < rank(a) ? b : a), ExitCode.ok)
}

function parse(input: ShardText): Shard | { file: string; empty: true } {
  const events: MusterEvent[] = []
  input.text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let e: unknown
    try {
      e = JSON.parse(line)
    } catch {
      throw new MergeInputError(`${input.file}:${i + 1}: not a JSON line (merge takes the output of \`muster check|apply --shard K/N --json\`)`)
    }
    if (typeof e !== 'object' || e === null || typeof (e as { type?: unknown }).type !== 'string') {
      throw new MergeInputError(`${input.file}:${i + 1}: a JSON line without a "type"`)
    }
    events.push(e as MusterEvent)
  })
  if (events.length === 0) return { file: input.file, empty: true }
  const start = events[0]!
  if (start.type !== 'run:start') throw new MergeInputError(`${input.file}: the first line is ${start.type}, not run:start`)
  if (!start.shard) throw new MergeInputError(`${input.file}: a run without --shard; merge combines the shards of one run`)
  const last = events[events.length - 1]!
  const end = last.type === 'run:end' ? last : undefined
  return { file: input.file, start: start as Shard['start'], body: events.slice(1, end ? -1 : undefined), ...(end ? { end } : {}) }
}

export function mergeShards(inputs: readonly ShardText[]): MergedRun {
  if (inputs.length === 0) throw new MergeInputError('merge: name the files of the shards (the --json output of each)')
  const parsed = inputs.map(parse)
  const shards = parsed.filter((s): s is Shard => 'start' in s)
  const incomplete = parsed.filter((s) => !('start' in s)).map((s) => `${s.file}: empty (the shard ended before its run began; see its stderr)`)
  if (shards.length === 0) throw new MergeInputError(`merge: no shard output to merge (${incomplete.join('; ')})`)

  const first = shards[0]!
  const { count, selected } = first.start.shard
  const mode: Mode = first.start.mode
  const byIndex = new Map<number, Shard>()
  for (const s of shards) {
    const info = s.start.shard
    const differs =
      s.start.mode !== mode ? `mode ${s.start.mode}, not ${mode}` : s.start.playbook !== first.start.playbook ? `playbook ${s.start.playbook}, not ${first.start.playbook}` : info.count !== count ? `${info.count} shards, not ${count}` : sameList(info.selected, selected) ? undefined : 'another set of selected hosts (a different inventory, --limit or --rerun)'
    if (differs) throw new MergeInputError(`${s.file} is not a shard of the same run as ${first.file}: ${differs}`)
    const other = byIndex.get(info.index)
    if (other) throw new MergeInputError(`${s.file} and ${other.file} are both shard ${info.index}/${count}`)
    byIndex.set(info.index, s)
  }

  // every host in exactly one shard
  const owner = new Map<string, Shard>()
  for (const s of shards) {
    for (const h of s.start.hosts) {
      const o = owner.get(h)
      if (o) throw new MergeInputError(`host ${h} is in shard ${o.start.shard.index} (${o.file}) and shard ${s.start.shard.index} (${s.file})`)
      owner.set(h, s)
    }
  }
  const missing = Array.from({ length: count }, (_, k) => k).filter((k) => !byIndex.has(k))
  for (const k of missing) incomplete.push(`shard ${k}/${count}: no output given`)
  const unknown = [...owner.keys()].filter((h) => !selected.includes(h))
  if (unknown.length) throw new MergeInputError(`host(s) ${unknown.join(', ')} ran in a shard but are not among the run's selected hosts`)
  if (missing.length === 0 && incomplete.length === 0) {
    const none = selected.filter((h) => !owner.has(h))
    if (none.length) throw new MergeInputError(`host(s) ${none.join(', ')} selected by the run but in no shard's output`)
  }
  for (const s of shards) if (!s.end) incomplete.push(`shard ${s.start.shard.index}/${count} (${s.file}): ended early, without its recap`)

  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((k) => byIndex.get(k)!)
  const hosts: Record<string, HostRecap> = {}
  for (const h of selected) {
    const recap = owner.get(h)?.end?.recap.hosts[h]
    if (recap) hosts[h] = recap
  }
  const codes = ordered.flatMap((s) => (s.end ? [s.end.recap.exitCode] : []))
  // a shard that did not finish has hosts nobody checked: never a success
  const exitCode = worstExitCode([...codes, ...(incomplete.length ? [ExitCode.failed] : [])])
  const recap: Recap = { mode, hosts, durationMs: Math.max(0, ...ordered.map((s) => s.end?.recap.durationMs ?? 0)), exitCode }
  const events: MusterEvent[] = [
    { type: 'run:start', mode, playbook: first.start.playbook, hosts: selected },
    ...ordered.flatMap((s) => s.body),
    { type: 'run:end', recap },
  ]
  return { events, exitCode, incomplete }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
