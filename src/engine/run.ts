import pLimit from 'p-limit'
import { runHostPlay, messageOf } from './host-play.ts'
import { flattenItems, MissingVarError, type HostContext, type Play, type PlannedItem, type Playbook, type Serial } from './playbook.ts'
import { gatherFacts, type HostFacts } from './host-facts.ts'
import { RecapCollector } from './recap.ts'
import type { Listener, Mode, MusterEvent, Recap, ShardInfo } from './events.ts'
import type { HostInfo, Inventory } from '../inventory/types.ts'
import { selectHosts } from '../inventory/patterns.ts'
import { bindPlaybook } from './play-hosts.ts'
import { playHostsOf, SelectionError, tagsOf, unmatchedTags } from './selection.ts'
import { UnreachableError, type Connection } from '../ssh/connection.ts'
import { maskSecrets } from '../core/secret.ts'
import { readOnly } from './read-only-connection.ts'
import { trace } from '../core/trace.ts'
import { userFrames, userLocation } from '../core/user-frames.ts'
import { FactCache } from './fact-cache.ts'
import { buildBatch, parseBatch } from './probe-batch.ts'
import type { FactQuery } from '../contract/fact.ts'

export interface RunOptions {
  playbook: Playbook
  /** For reports: the playbook's file. */
  playbookName: string
  inventory: Inventory
  mode: Mode
  /** Host names the run is limited to (already resolved from --limit / --rerun). */
  limit?: ReadonlySet<string>
  /** How to name the limit in an error ("--limit 'web'"). */
  limitLabel?: string
  /**
   * A play pattern, --limit, --tags or --skip-tags that selects nothing is an
   * error (SelectionError, exit 64) unless this is set; then it is a warning.
   */
  allowUnmatched?: boolean
  tags?: readonly string[]
  skipTags?: readonly string[]
  /** This run is one shard (--shard): said in run:start; `limit` already holds the shard's hosts. */
  shard?: ShardInfo
  /** Hosts worked on at once within a play or batch. */
  forks: number
  diff: boolean
  connect: (host: HostInfo) => Promise<Connection>
  onEvent: Listener
  probeTimeoutMs?: number
  /**
   * Aborted (Ctrl-C, or stdout closed: its `reason` says which): hosts in flight finish their play, no further batch or
   * play starts, and only the plays marked `always` still run.
   */
  signal?: AbortSignal
  /**
   * With `signal`: stop within a play too, between resources (apply). A deploy
   * leaves this off, so a host in flight is never left drained or half switched.
   */
  stopBetweenResources?: boolean
}

/** One host's state across the plays of a run. */
interface HostRun {
  cache: FactCache
  /** fleetChanges when the cache was last trusted */
  epoch: number
  expanded: Map<number, PlannedItem[]>
  facts?: Promise<HostFacts>
  /** the probe of all its plays at the start of the run */
  warm?: Promise<void>
  warmBatches: number
}

/** A role read ctx.facts before they were gathered: gather them, then expand again (roles are pure). */
class FactsNeeded extends Error {}

/**
 * An error in the user's own code or data, found while expanding roles: exit
 * 64. The message names the role and, when the user's code is in the stack,
 * the file and line it threw at (or called muster from); `frames` are the
 * user's part of the stack, for -v. The host is the event's own (every report
 * line starts with it), so it is not said again.
 */
export class ExpansionError extends Error {
  readonly frames: string[]
  constructor(
    readonly host: string,
    readonly role: string,
    cause: unknown,
  ) {
    const at = userLocation(cause)
    super(`role ${role}: ${at ? `${at}: ` : ''}${cause instanceof MissingVarError && cause.host === host ? cause.detail : messageOf(cause)}`)
    this.frames = userFrames(cause)
    this.name = 'ExpansionError'
  }
}

/**
 * Plays run in order with a barrier between them; within a play, hosts run in
 * parallel up to `forks`, in `serial` batches when asked. A host that fails or
 * cannot be reached stops only itself, and sits out the plays after (a failed
 * one still takes part in `always` plays, which run however the run ends).
 */
export async function runPlaybook(opts: RunOptions): Promise<Recap> {
  const started = Date.now()
  // plays whose hosts are made of vars (hostsFrom) take this inventory's group names
  opts = { ...opts, playbook: bindPlaybook(opts.playbook, opts.inventory) }
  // a shard that checked nothing (no host, or its hosts lack the tags) is no verdict on the run: `muster merge` makes it
  const recap = new RecapCollector(opts.mode, { checkedNothingIsError: !(opts.shard && opts.shard.count > 1) })
  const emit = (e: MusterEvent): void => {
    recap.on(e)
    opts.onEvent(e)
    if ((e.type === 'resource:result' || e.type === 'handler:result') && e.status === 'changed') fleetChanges++
  }
  /** Changes made anywhere so far: a host's facts probed before another host changed something may be stale. */
  let fleetChanges = 0
  const out = new Set<string>() // failed or unreachable: sits out later plays
  const hostRuns = new Map<string, HostRun>()
  const probeBatches = new Map<string, number>()
  const limit = pLimit(Math.max(1, opts.forks))

  // a shard judges selections over the whole run's hosts (the other shards run the rest), and runs its own
  const judged = opts.shard ? new Set(opts.shard.selected) : opts.limit
  const selection = playHostsOf(opts.playbook, opts.inventory, judged, opts.limitLabel ?? '--limit')
  const playHosts = opts.shard ? selection.hosts.map((hs) => hs.filter((h) => !opts.limit || opts.limit.has(h))) : selection.hosts
  const allHosts = new Set(playHosts.flat())
  const unmatched = [...selection.unmatched]
  if (unmatched.length > 0 && !opts.allowUnmatched) throw new SelectionError(unmatched)
  // Every host is connected and probed now, in parallel, for all its plays at once: a converged
  // run then costs one round trip per host, and a host first needed in the last play does not
  // pay for its handshake and probe there. A change anywhere later makes the next play re-probe.
  for (const name of allHosts) hostRun(name).warm = limit(() => warm(opts.inventory.hosts.get(name)!))
  const tagProblems = await unmatchedTagsOfRun()
  if (tagProblems.length > 0 && !opts.allowUnmatched) throw new SelectionError(tagProblems)
  unmatched.push(...tagProblems)
  emit({ type: 'run:start', mode: opts.mode, playbook: opts.playbookName, hosts: [...allHosts], ...(opts.shard ? { shard: opts.shard } : {}) })
  for (const message of unmatched) emit({ type: 'warning', message: `${message} (--allow-unmatched: running anyway)` })

  const connectTo = async (name: string): Promise<Connection> => {
    const h = opts.inventory.hosts.get(name)
    if (!h) throw new Error(`no host ${name} in the inventory`)
    const c = await opts.connect(h)
    return opts.mode === 'check' ? readOnly(c) : c
  }

  const lost = new Set<string>() // unreachable: not even `always` plays try again
  let stopped = false // a play stopped the rollout, or the run was interrupted: only `always` plays run on
  plays: for (const [index, play] of opts.playbook.plays.entries()) {
    if (stopped && !play.always) continue
    const hosts = playHosts[index]!.filter((h) => (play.always ? !lost.has(h) : !out.has(h)))
    emit({ type: 'play:start', play: play.name, index, hosts })
    if (play.onlyIfNoFailures && opts.mode === 'apply' && out.size > 0) {
      for (const name of hosts) emit({ type: 'host:start', play: play.name, host: name, resources: 0 })
      emit({ type: 'play:end', play: play.name, stopped: `not run (onlyIfNoFailures): earlier plays failed on ${[...out].join(', ')}; not started: ${hosts.join(', ') || 'none'}` })
      continue
    }
    const batches = splitBatches(hosts, play.serial)
    let failedInPlay = 0
    for (const [b, batch] of batches.entries()) {
      if (!play.always && opts.signal?.aborted) {
        const rest = batches.slice(b).flat()
        for (const name of rest) emit({ type: 'host:start', play: play.name, host: name, resources: 0 })
        emit({ type: 'play:end', play: play.name, stopped: `interrupted; not started: ${rest.join(', ') || 'none'}` })
        stopped = true
        continue plays
      }
      if (play.serial !== undefined) emit({ type: 'batch:start', play: play.name, batch: b + 1, batches: batches.length, hosts: batch })
      const results = await Promise.all(
        batch.map((name) =>
          limit(async () => {
            const host = opts.inventory.hosts.get(name)!
            const status = await runHost(host, play)
            if (status !== 'ok') out.add(name)
            if (status === 'unreachable') lost.add(name)
            return status
          }),
        ),
      )
      failedInPlay += results.filter((s) => s !== 'ok').length
      if (play.maxFailPercentage !== undefined && hosts.length > 0 && (failedInPlay / hosts.length) * 100 > play.maxFailPercentage) {
        const rest = batches.slice(b + 1).flat()
        for (const name of rest) emit({ type: 'host:start', play: play.name, host: name, resources: 0 })
        emit({
          type: 'play:end',
          play: play.name,
          stopped: `${failedInPlay} of ${hosts.length} hosts failed (more than maxFailPercentage ${play.maxFailPercentage}%); not started: ${rest.join(', ') || 'none'}`,
        })
        stopped = true
        continue plays
      }
    }
    emit({ type: 'play:end', play: play.name })
  }

  async function runHost(host: HostInfo, play: Play): Promise<'ok' | 'failed' | 'unreachable'> {
    let conn: Connection
    try {
      conn = await opts.connect(host)
      trace(`${host.name}: connected`)
      if (opts.mode === 'check') conn = readOnly(conn)
    } catch (err) {
      emit({ type: 'host:start', play: play.name, host: host.name, resources: 0 })
      emit({ type: 'host:unreachable', play: play.name, host: host.name, message: maskSecrets(messageOf(err)) })
      return 'unreachable'
    }
    const hr = hostRun(host.name)
    await hr.warm
    const index = opts.playbook.plays.indexOf(play)
    let items: PlannedItem[]
    let prefetch: FactQuery<unknown>[]
    try {
      items = await itemsFor(host, hr, index, conn)
      prefetch = await laterQueries(host, hr, index, conn)
    } catch (err) {
      emit({ type: 'host:start', play: play.name, host: host.name, resources: 0 })
      if (err instanceof UnreachableError) {
        emit({ type: 'host:unreachable', play: play.name, host: host.name, message: maskSecrets(err.message) })
        return 'unreachable'
      }
      if (!(err instanceof ExpansionError)) {
        emit({ type: 'host:failed', play: play.name, host: host.name, resource: 'facts', message: maskSecrets(messageOf(err)) })
        return 'failed'
      }
      recap.inputErrors++
      const frames = err.frames.length > 0 ? { frames: err.frames } : {}
      emit({ type: 'host:failed', play: play.name, host: host.name, resource: 'expand', message: maskSecrets(messageOf(err)), ...frames })
      recap.host(host.name).failed++
      return 'failed'
    }
    // facts probed before a change anywhere in the fleet may be stale; a converged run keeps them all run long
    if (hr.epoch !== fleetChanges) hr.cache.clear()
    hr.epoch = fleetChanges
    emit({ type: 'host:start', play: play.name, host: host.name, resources: items.length })
    const outcome = await runHostPlay({
      play: play.name,
      host,
      conn,
      items,
      selected: (it) => selectedByTags(it, opts.tags, opts.skipTags),
      mode: opts.mode,
      wantDiff: opts.diff,
      emit,
      connectTo,
      cache: hr.cache,
      prefetch,
      ...(opts.stopBetweenResources && opts.signal && !play.always ? { interrupted: () => (opts.signal!.aborted ? abortReason(opts.signal!) : undefined) } : {}),
      ...(opts.probeTimeoutMs !== undefined ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
    })
    trace(`${host.name}: play done`)
    probeBatches.set(host.name, (probeBatches.get(host.name) ?? 0) + outcome.probeBatches + hr.warmBatches)
    hr.warmBatches = 0
    const r = recap.host(host.name)
    r.probeBatches = probeBatches.get(host.name)!
    Object.assign(r.stats, conn.stats)
    if (outcome.status === 'failed' && r.failed === 0) r.failed++
    emit({ type: 'host:done', play: play.name, host: host.name })
    return outcome.status
  }

  /**
   * --tags / --skip-tags naming no tag of this run. Role names are known
   * without expanding; any other tag waits for every host's expansion (done by
   * warm() anyway; in a shard, only role names are judged). A host whose expansion failed (or that cannot be reached)
   * could carry any tag: then nothing is judged, and that host reports its own error.
   */
  async function unmatchedTagsOfRun(): Promise<string[]> {
    const asked = [...(opts.tags ?? []), ...(opts.skipTags ?? [])]
    if (asked.length === 0) return []
    // role names count over the whole run, other shards' hosts included
    const roleNames = new Set(opts.playbook.plays.flatMap((p, i) => (selection.hosts[i]!.length > 0 ? p.roles.map((r) => r.name) : [])))
    if (asked.every((t) => roleNames.has(t))) return []
    // a resource's own tag may be on another shard's hosts only, which this process does not expand: not judged
    if (opts.shard && opts.shard.count > 1) return []
    await Promise.all([...allHosts].map((h) => hostRun(h).warm))
    const complete = [...allHosts].every((h) => playHosts.every((hosts, i) => !hosts.includes(h) || hostRun(h).expanded.has(i)))
    if (!complete) return []
    const known = tagsOf([...allHosts].flatMap((h) => [...hostRun(h).expanded.values()]))
    return unmatchedTags(opts, new Set([...known, ...roleNames]))
  }

  function hostRun(name: string): HostRun {
    let hr = hostRuns.get(name)
    if (!hr) hostRuns.set(name, (hr = { cache: new FactCache(), epoch: 0, expanded: new Map(), warmBatches: 0 }))
    return hr
  }

  /** Probe everything the host's plays will read, in one batch. Errors surface later, in the play that meets them. */
  async function warm(host: HostInfo): Promise<void> {
    try {
      let conn = await opts.connect(host)
      if (opts.mode === 'check') conn = readOnly(conn)
      const hr = hostRun(host.name)
      const queries = await laterQueries(host, hr, -1, conn)
      if (queries.length === 0) return
      const batch = buildBatch(queries)
      const res = await conn.exec('sh -s', { stdin: batch.script, ...(opts.probeTimeoutMs ? { timeoutMs: opts.probeTimeoutMs } : {}) })
      hr.cache.setAll(parseBatch(batch, res.stdout))
      hr.warmBatches = 1
      trace(`${host.name}: probed`)
    } catch {
      // unreachable, an expansion error, a probe that cannot be read: the host's first play reports it
    }
  }

  /** A play's resources for a host, expanded once per run; facts are gathered only if a role reads them. */
  async function itemsFor(host: HostInfo, hr: HostRun, index: number, conn: Connection): Promise<PlannedItem[]> {
    const done = hr.expanded.get(index)
    if (done) return done
    const play = opts.playbook.plays[index]!
    let items: PlannedItem[]
    try {
      items = expand(play, host, hr.facts ? await hr.facts : undefined)
    } catch (err) {
      if (!(err instanceof FactsNeeded)) throw err
      hr.facts ??= gatherFacts(conn)
      items = expand(play, host, await hr.facts)
      trace(`${host.name}: facts`)
    }
    hr.expanded.set(index, items)
    return items
  }

  /** What the host's later plays will probe, so the first round trip fetches it all. */
  async function laterQueries(host: HostInfo, hr: HostRun, index: number, conn: Connection): Promise<FactQuery<unknown>[]> {
    const queries: FactQuery<unknown>[] = []
    for (let j = index + 1; j < opts.playbook.plays.length; j++) {
      if (!playHosts[j]!.includes(host.name)) continue
      let items: PlannedItem[]
      try {
        items = await itemsFor(host, hr, j, conn)
      } catch (err) {
        if (err instanceof UnreachableError) throw err
        continue // that play reports its own error when it runs
      }
      for (const it of items) if (selectedByTags(it, opts.tags, opts.skipTags)) queries.push(...(Object.values(it.resource.probe) as FactQuery<unknown>[]))
    }
    return queries
  }

  function expand(play: Play, host: HostInfo, hostFacts: HostFacts | undefined): PlannedItem[] {
    const ctx: HostContext = {
      host,
      name: host.name,
      vars: host.vars,
      need<T>(name: string): T {
        if (!(name in host.vars) || host.vars[name] === undefined) throw new MissingVarError(host.name, name)
        return host.vars[name] as T
      },
      get facts(): HostFacts {
        if (hostFacts) return hostFacts
        if (!play.gatherFacts) throw new Error(`play "${play.name}" has gatherFacts: false, so facts are not available`)
        throw new FactsNeeded()
      },
      inventory: opts.inventory,
      hostsOf: (pattern: string) => selectHosts(opts.inventory, pattern).map((n) => opts.inventory.hosts.get(n)!),
    }
    const items: PlannedItem[] = []
    const ids = new Map<string, string>()
    for (const role of play.roles) {
      let resources
      try {
        resources = flattenItems(role.build(ctx))
      } catch (err) {
        if (err instanceof FactsNeeded) throw err
        throw new ExpansionError(host.name, role.name, err)
      }
      for (const r of resources) {
        const other = ids.get(r.id)
        if (other !== undefined) {
          throw new ExpansionError(host.name, role.name, `resource ${r.id} is declared twice (also in role ${other}); each resource must be managed in one place`)
        }
        ids.set(r.id, role.name)
        items.push({ resource: r, role: role.name, tags: [role.name, ...r.tags] })
      }
    }
    return items
  }

  return recap.recap(Date.now() - started)
}

/** What stopped the run, as the CLI said it when aborting ('Ctrl-C', 'output closed'). */
function abortReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'aborted'
}

export function selectedByTags(item: PlannedItem, tags?: readonly string[], skipTags?: readonly string[]): boolean {
  if (skipTags?.some((t) => item.tags.includes(t))) return false
  if (!tags || tags.length === 0) return true
  return tags.some((t) => item.tags.includes(t))
}

/** Split a play's hosts into serial batches: N hosts, or N% of them (at least one). */
export function splitBatches(hosts: readonly string[], serial: Serial | undefined): string[][] {
  if (serial === undefined || hosts.length === 0) return [hosts.slice()]
  let size: number
  if (typeof serial === 'string') {
    const pct = Number(serial.slice(0, -1))
    if (!Number.isFinite(pct) || pct <= 0) throw new RangeError(`serial must be a positive number or percentage, got "${serial}"`)
    size = Math.max(1, Math.floor((hosts.length * pct) / 100))
  } else {
    if (!Number.isInteger(serial) || serial <= 0) throw new RangeError(`serial must be a positive integer, got ${serial}`)
    size = serial
  }
  const out: string[][] = []
  for (let i = 0; i < hosts.length; i += size) out.push(hosts.slice(i, i + size))
  return out
}
