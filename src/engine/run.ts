import pLimit, { type LimitFunction } from 'p-limit'
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
import { adoptSentAhead, buildBatch, parseBatch, PROBE_COMMAND } from './probe-batch.ts'
import { execProbe, ProbeTimeoutError } from './probe-exec.ts'
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
  /** How long a probe may run before its host fails (probe-exec.ts): undefined for PROBE_TIMEOUT_MS, 0 for no limit. */
  probeTimeoutMs?: number
  /**
   * When the run began, as Date.now() counts, for the recap's durationMs
   * (default: when runPlaybook is called). The CLI gives its process's start,
   * so the figure it prints is what `time` says: loading the playbook and
   * connecting are in it.
   */
  startedAt?: number
  /** A host's first probe script was sent and its answer read: the next identical run may send it ahead (preconnect.ts). */
  onFirstProbe?: (host: string, script: string) => void
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
  /** That probe ran out of time: the host's first play fails with this, not waiting as long again. */
  stuck?: ProbeTimeoutError
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
  return new PlaybookRun(opts).run()
}

type HostStatus = 'ok' | 'failed' | 'unreachable'

/** One run of a playbook: what it selected, each host's state across plays, and what has happened so far. */
class PlaybookRun {
  private readonly started: number
  private readonly opts: RunOptions
  private readonly recap: RecapCollector
  /** Changes made anywhere so far: a host's facts probed before another host changed something may be stale. */
  private fleetChanges = 0
  /** Failed or unreachable: sits out later plays. */
  private readonly out = new Set<string>()
  /** Unreachable: not even `always` plays try again. */
  private readonly lost = new Set<string>()
  /** A play stopped the rollout, or the run was interrupted: only `always` plays run on. */
  private stopped = false
  private readonly hostRuns = new Map<string, HostRun>()
  private readonly probeBatches = new Map<string, number>()
  private readonly limit: LimitFunction
  private readonly selection: ReturnType<typeof playHostsOf>
  /** Each play's hosts in this process (a shard's own). */
  private readonly playHosts: string[][]
  private readonly allHosts: Set<string>

  constructor(opts: RunOptions) {
    this.started = opts.startedAt ?? Date.now()
    // plays whose hosts are made of vars (hostsFrom) take this inventory's group names
    this.opts = opts = { ...opts, playbook: bindPlaybook(opts.playbook, opts.inventory) }
    // a shard that checked nothing (no host, or its hosts lack the tags) is no verdict on the run: `muster merge` makes it
    this.recap = new RecapCollector(opts.mode, { checkedNothingIsError: !(opts.shard && opts.shard.count > 1) })
    this.limit = pLimit(Math.max(1, opts.forks))
    // a shard judges selections over the whole run's hosts (the other shards run the rest), and runs its own
    const judged = opts.shard ? new Set(opts.shard.selected) : opts.limit
    this.selection = playHostsOf(opts.playbook, opts.inventory, judged, opts.limitLabel ?? '--limit')
    this.playHosts = opts.shard ? this.selection.hosts.map((hs) => hs.filter((h) => !opts.limit || opts.limit.has(h))) : this.selection.hosts
    this.allHosts = new Set(this.playHosts.flat())
  }

  private readonly emit = (e: MusterEvent): void => {
    this.recap.on(e)
    this.opts.onEvent(e)
    if ((e.type === 'resource:result' || e.type === 'handler:result') && e.status === 'changed') this.fleetChanges++
  }

  private readonly connectTo = async (name: string): Promise<Connection> => {
    const h = this.opts.inventory.hosts.get(name)
    if (!h) throw new Error(`no host ${name} in the inventory`)
    const c = await this.opts.connect(h)
    return this.opts.mode === 'check' ? readOnly(c) : c
  }

  async run(): Promise<Recap> {
    const { opts } = this
    const unmatched = [...this.selection.unmatched]
    if (unmatched.length > 0 && !opts.allowUnmatched) throw new SelectionError(unmatched)
    // Every host is connected and probed now, in parallel, for all its plays at once: a converged
    // run then costs one round trip per host, and a host first needed in the last play does not
    // pay for its handshake and probe there. A change anywhere later makes the next play re-probe.
    for (const name of this.allHosts) this.hostRun(name).warm = this.limit(() => this.warm(opts.inventory.hosts.get(name)!))
    const tagProblems = await this.unmatchedTagsOfRun()
    if (tagProblems.length > 0 && !opts.allowUnmatched) throw new SelectionError(tagProblems)
    unmatched.push(...tagProblems)
    this.emit({ type: 'run:start', mode: opts.mode, playbook: opts.playbookName, hosts: [...this.allHosts], ...(opts.shard ? { shard: opts.shard } : {}) })
    for (const message of unmatched) this.emit({ type: 'warning', message: `${message} (--allow-unmatched: running anyway)` })
    for (const [index, play] of opts.playbook.plays.entries()) {
      if (this.stopped && !play.always) continue
      await this.runPlay(index, play)
    }
    return this.recap.recap(Date.now() - this.started)
  }

  /** One play: its hosts in serial batches, stopped by an interrupt or maxFailPercentage, skipped by onlyIfNoFailures. */
  private async runPlay(index: number, play: Play): Promise<void> {
    const { opts } = this
    const hosts = this.playHosts[index]!.filter((h) => (play.always ? !this.lost.has(h) : !this.out.has(h)))
    this.emit({ type: 'play:start', play: play.name, index, hosts })
    if (play.onlyIfNoFailures && opts.mode === 'apply' && this.out.size > 0) {
      return this.stopPlay(play, hosts, `not run (onlyIfNoFailures): earlier plays failed on ${[...this.out].join(', ')}`)
    }
    const batches = splitBatches(hosts, play.serial)
    let failedInPlay = 0
    for (const [b, batch] of batches.entries()) {
      if (!play.always && opts.signal?.aborted) {
        this.stopped = true
        return this.stopPlay(play, batches.slice(b).flat(), 'interrupted')
      }
      if (play.serial !== undefined) this.emit({ type: 'batch:start', play: play.name, batch: b + 1, batches: batches.length, hosts: batch })
      const results = await Promise.all(batch.map((name) => this.limit(() => this.runHostOfPlay(name, play))))
      failedInPlay += results.filter((s) => s !== 'ok').length
      if (play.maxFailPercentage !== undefined && hosts.length > 0 && (failedInPlay / hosts.length) * 100 > play.maxFailPercentage) {
        this.stopped = true
        return this.stopPlay(play, batches.slice(b + 1).flat(), `${failedInPlay} of ${hosts.length} hosts failed (more than maxFailPercentage ${play.maxFailPercentage}%)`)
      }
    }
    this.emit({ type: 'play:end', play: play.name })
  }

  /** The play ends before these hosts start: each is said to have started nothing, then why. */
  private stopPlay(play: Play, notStarted: readonly string[], why: string): void {
    for (const name of notStarted) this.emit({ type: 'host:start', play: play.name, host: name, resources: 0 })
    this.emit({ type: 'play:end', play: play.name, stopped: `${why}; not started: ${notStarted.join(', ') || 'none'}` })
  }

  private async runHostOfPlay(name: string, play: Play): Promise<HostStatus> {
    const status = await this.runHost(this.opts.inventory.hosts.get(name)!, play)
    if (status !== 'ok') this.out.add(name)
    if (status === 'unreachable') this.lost.add(name)
    return status
  }

  private async runHost(host: HostInfo, play: Play): Promise<HostStatus> {
    const { opts } = this
    let conn: Connection
    try {
      conn = await opts.connect(host)
      trace(`${host.name}: connected`)
      if (opts.mode === 'check') conn = readOnly(conn)
    } catch (err) {
      this.emit({ type: 'host:start', play: play.name, host: host.name, resources: 0 })
      this.emit({ type: 'host:unreachable', play: play.name, host: host.name, message: maskSecrets(messageOf(err)) })
      return 'unreachable'
    }
    const hr = this.hostRun(host.name)
    await hr.warm
    if (hr.stuck) {
      // said once, by the first play; an `always` play after it tries the host again, under the same bound
      const stuck = hr.stuck
      hr.stuck = undefined
      return this.expansionFailed(host, play, stuck, conn)
    }
    const index = opts.playbook.plays.indexOf(play)
    let items: PlannedItem[]
    let prefetch: FactQuery<unknown>[]
    try {
      items = await this.itemsFor(host, hr, index, conn)
      prefetch = await this.laterQueries(host, hr, index, conn)
    } catch (err) {
      return this.expansionFailed(host, play, err, conn)
    }
    // facts probed before a change anywhere in the fleet may be stale; a converged run keeps them all run long
    if (hr.epoch !== this.fleetChanges) hr.cache.clear()
    hr.epoch = this.fleetChanges
    this.emit({ type: 'host:start', play: play.name, host: host.name, resources: items.length })
    const outcome = await runHostPlay({
      play: play.name,
      host,
      conn,
      items,
      selected: (it) => selectedByTags(it, opts.tags, opts.skipTags),
      mode: opts.mode,
      wantDiff: opts.diff,
      emit: this.emit,
      connectTo: this.connectTo,
      cache: hr.cache,
      prefetch,
      ...(opts.stopBetweenResources && opts.signal && !play.always ? { interrupted: () => (opts.signal!.aborted ? abortReason(opts.signal!) : undefined) } : {}),
      ...(opts.probeTimeoutMs !== undefined ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
    })
    trace(`${host.name}: play done`)
    this.probeBatches.set(host.name, (this.probeBatches.get(host.name) ?? 0) + outcome.probeBatches + hr.warmBatches)
    hr.warmBatches = 0
    const r = this.recap.host(host.name)
    r.probeBatches = this.probeBatches.get(host.name)!
    Object.assign(r.stats, conn.stats)
    if (outcome.status === 'failed' && r.failed === 0) r.failed++
    this.emit({ type: 'host:done', play: play.name, host: host.name })
    return outcome.status
  }

  /** A host whose play could not be expanded (or its facts read): said once, as unreachable, failed or an input error. */
  private expansionFailed(host: HostInfo, play: Play, err: unknown, conn: Connection): HostStatus {
    this.emit({ type: 'host:start', play: play.name, host: host.name, resources: 0 })
    // what was sent to the host before it failed (its facts, its first probe) is in its round trips too
    const r = this.recap.host(host.name)
    Object.assign(r.stats, conn.stats)
    const hr = this.hostRun(host.name)
    r.probeBatches = (this.probeBatches.get(host.name) ?? 0) + hr.warmBatches
    this.probeBatches.set(host.name, r.probeBatches)
    hr.warmBatches = 0
    if (err instanceof UnreachableError) {
      this.emit({ type: 'host:unreachable', play: play.name, host: host.name, message: maskSecrets(err.message) })
      return 'unreachable'
    }
    if (!(err instanceof ExpansionError)) {
      const resource = err instanceof ProbeTimeoutError ? 'probe' : 'facts'
      this.emit({ type: 'host:failed', play: play.name, host: host.name, resource, message: maskSecrets(messageOf(err)) })
      // counted, so the exit code says it: a host whose state was never read is not in sync
      this.recap.host(host.name).failed++
      return 'failed'
    }
    this.recap.inputErrors++
    const frames = err.frames.length > 0 ? { frames: err.frames } : {}
    this.emit({ type: 'host:failed', play: play.name, host: host.name, resource: 'expand', message: maskSecrets(messageOf(err)), ...frames })
    this.recap.host(host.name).failed++
    return 'failed'
  }

  /**
   * --tags / --skip-tags naming no tag of this run. Role names are known
   * without expanding; any other tag waits for every host's expansion (done by
   * warm() anyway; in a shard, only role names are judged). A host whose expansion failed (or that cannot be reached)
   * could carry any tag: then nothing is judged, and that host reports its own error.
   */
  private async unmatchedTagsOfRun(): Promise<string[]> {
    const { opts } = this
    const asked = [...(opts.tags ?? []), ...(opts.skipTags ?? [])]
    if (asked.length === 0) return []
    // role names count over the whole run, other shards' hosts included
    const roleNames = new Set(opts.playbook.plays.flatMap((p, i) => (this.selection.hosts[i]!.length > 0 ? p.roles.map((r) => r.name) : [])))
    if (asked.every((t) => roleNames.has(t))) return []
    // a resource's own tag may be on another shard's hosts only, which this process does not expand: not judged
    if (opts.shard && opts.shard.count > 1) return []
    const all = [...this.allHosts]
    await Promise.all(all.map((h) => this.hostRun(h).warm))
    const complete = all.every((h) => this.playHosts.every((hosts, i) => !hosts.includes(h) || this.hostRun(h).expanded.has(i)))
    if (!complete) return []
    const known = tagsOf(all.flatMap((h) => [...this.hostRun(h).expanded.values()]))
    return unmatchedTags(opts, new Set([...known, ...roleNames]))
  }

  private hostRun(name: string): HostRun {
    let hr = this.hostRuns.get(name)
    if (!hr) this.hostRuns.set(name, (hr = { cache: new FactCache(), epoch: 0, expanded: new Map(), warmBatches: 0 }))
    return hr
  }

  /** Probe everything the host's plays will read, in one batch. Errors surface later, in the play that meets them. */
  private async warm(host: HostInfo): Promise<void> {
    const { opts } = this
    let probing = false
    try {
      // the handshake is round trips and the host's own work (sshd forks, key exchange): the roles are expanded
      // meanwhile. The other hosts' connections start first (setImmediate), so no expansion delays them.
      const connecting = opts.connect(host).then((c) => (opts.mode === 'check' ? readOnly(c) : c))
      connecting.catch(() => {}) // awaited below, or by the host's first play, which reports it
      await new Promise<void>((resolve) => setImmediate(resolve))
      const hr = this.hostRun(host.name)
      const queries = await this.laterQueries(host, hr, -1, connecting)
      if (queries.length === 0) return
      const conn = await connecting
      // the last identical run's first probe may be on its way already (Connection.openAhead): if it is this one, its answer is ours
      const batch = adoptSentAhead(buildBatch(queries), conn.sentAhead?.(PROBE_COMMAND))
      probing = true
      const res = await execProbe(conn, batch.script, opts.probeTimeoutMs)
      hr.warmBatches = 1
      hr.cache.setAll(parseBatch(batch, res.stdout))
      opts.onFirstProbe?.(host.name, batch.script)
      trace(`${host.name}: probed`)
    } catch (err) {
      // unreachable, an expansion error, a probe that cannot be read: the host's first play reports it;
      // a probe out of time too, but without running it again for as long
      if (err instanceof ProbeTimeoutError) {
        const hr = this.hostRun(host.name)
        hr.stuck = err
        if (probing) hr.warmBatches = 1 // the batch went out (not the facts before it)
      }
    }
  }

  /** A play's resources for a host, expanded once per run; facts are gathered only if a role reads them. */
  private async itemsFor(host: HostInfo, hr: HostRun, index: number, conn: Connection | Promise<Connection>): Promise<PlannedItem[]> {
    const done = hr.expanded.get(index)
    if (done) return done
    const play = this.opts.playbook.plays[index]!
    let items: PlannedItem[]
    try {
      items = expandPlay(play, host, hr.facts ? await hr.facts : undefined, this.opts.inventory)
    } catch (err) {
      if (!(err instanceof FactsNeeded)) throw err
      // a connection that failed is not a fact: the host's play connects again and says so
      hr.facts ??= Promise.resolve(conn).then((c) => gatherFacts(c, this.opts.probeTimeoutMs), (err: unknown) => {
        hr.facts = undefined
        throw err
      })
      items = expandPlay(play, host, await hr.facts, this.opts.inventory)
      trace(`${host.name}: facts`)
    }
    hr.expanded.set(index, items)
    return items
  }

  /** What the host's later plays will probe, so the first round trip fetches it all. */
  private async laterQueries(host: HostInfo, hr: HostRun, index: number, conn: Connection | Promise<Connection>): Promise<FactQuery<unknown>[]> {
    const { opts } = this
    const queries: FactQuery<unknown>[] = []
    for (let j = index + 1; j < opts.playbook.plays.length; j++) {
      if (!this.playHosts[j]!.includes(host.name)) continue
      let items: PlannedItem[]
      try {
        items = await this.itemsFor(host, hr, j, conn)
      } catch (err) {
        if (err instanceof UnreachableError) throw err
        continue // that play reports its own error when it runs
      }
      for (const it of items) if (selectedByTags(it, opts.tags, opts.skipTags)) queries.push(...(Object.values(it.resource.probe) as FactQuery<unknown>[]))
    }
    return queries
  }
}

/** A play's roles built for one host: its resources, each declared once, tagged with its role. Pure: roles read only ctx. */
function expandPlay(play: Play, host: HostInfo, hostFacts: HostFacts | undefined, inventory: Inventory): PlannedItem[] {
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
    inventory,
    hostsOf: (pattern: string) => selectHosts(inventory, pattern).map((n) => inventory.hosts.get(n)!),
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
