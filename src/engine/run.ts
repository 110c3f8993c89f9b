import pLimit from 'p-limit'
import { runHostPlay, messageOf } from './host-play.ts'
import { flattenItems, MissingVarError, type HostContext, type Play, type PlannedItem, type Playbook, type Serial } from './playbook.ts'
import { gatherFacts, type HostFacts } from './host-facts.ts'
import { RecapCollector } from './recap.ts'
import type { Listener, Mode, MusterEvent, Recap } from './events.ts'
import type { HostInfo, Inventory } from '../inventory/types.ts'
import { selectHosts } from '../inventory/patterns.ts'
import { UnreachableError, type Connection } from '../ssh/connection.ts'
import { maskSecrets } from '../core/secret.ts'
import { readOnly } from './read-only-connection.ts'
import { trace } from '../core/trace.ts'

export interface RunOptions {
  playbook: Playbook
  /** For reports: the playbook's file. */
  playbookName: string
  inventory: Inventory
  mode: Mode
  /** Host names the run is limited to (already resolved from --limit / --rerun). */
  limit?: ReadonlySet<string>
  tags?: readonly string[]
  skipTags?: readonly string[]
  /** Hosts worked on at once within a play or batch. */
  forks: number
  diff: boolean
  connect: (host: HostInfo) => Promise<Connection>
  onEvent: Listener
  probeTimeoutMs?: number
}

/** An error in the user's own code or data, found while expanding roles: exit 64. */
export class ExpansionError extends Error {
  constructor(
    readonly host: string,
    readonly role: string,
    cause: unknown,
  ) {
    super(`host ${host}, role ${role}: ${messageOf(cause)}`)
    this.name = 'ExpansionError'
  }
}

/**
 * Plays run in order with a barrier between them; within a play, hosts run in
 * parallel up to `forks`, in `serial` batches when asked. A host that fails or
 * cannot be reached stops only itself, and sits out the plays after.
 */
export async function runPlaybook(opts: RunOptions): Promise<Recap> {
  const started = Date.now()
  const recap = new RecapCollector(opts.mode)
  const emit = (e: MusterEvent): void => {
    recap.on(e)
    opts.onEvent(e)
  }
  const out = new Set<string>() // failed or unreachable: sits out later plays
  const facts = new Map<string, Promise<HostFacts>>()
  const probeBatches = new Map<string, number>()
  const limit = pLimit(Math.max(1, opts.forks))

  const allHosts = new Set<string>()
  const playHosts = opts.playbook.plays.map((p) => {
    const names = selectHosts(opts.inventory, p.hosts).filter((h) => !opts.limit || opts.limit.has(h))
    names.forEach((n) => allHosts.add(n))
    return names
  })
  emit({ type: 'run:start', mode: opts.mode, playbook: opts.playbookName, hosts: [...allHosts] })

  const connectTo = async (name: string): Promise<Connection> => {
    const h = opts.inventory.hosts.get(name)
    if (!h) throw new Error(`no host ${name} in the inventory`)
    const c = await opts.connect(h)
    return opts.mode === 'check' ? readOnly(c) : c
  }

  plays: for (const [index, play] of opts.playbook.plays.entries()) {
    const hosts = playHosts[index]!.filter((h) => !out.has(h))
    emit({ type: 'play:start', play: play.name, index, hosts })
    const batches = splitBatches(hosts, play.serial)
    let failedInPlay = 0
    for (const [b, batch] of batches.entries()) {
      if (play.serial !== undefined) emit({ type: 'batch:start', play: play.name, batch: b + 1, batches: batches.length, hosts: batch })
      const results = await Promise.all(
        batch.map((name) =>
          limit(async () => {
            const host = opts.inventory.hosts.get(name)!
            const status = await runHost(host, play)
            if (status !== 'ok') out.add(name)
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
        break plays
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
    let hostFacts: HostFacts | undefined
    try {
      if (play.gatherFacts) {
        if (!facts.has(host.name)) facts.set(host.name, gatherFacts(conn))
        hostFacts = await facts.get(host.name)!
        trace(`${host.name}: facts`)
      }
    } catch (err) {
      emit({ type: 'host:start', play: play.name, host: host.name, resources: 0 })
      if (err instanceof UnreachableError) {
        emit({ type: 'host:unreachable', play: play.name, host: host.name, message: maskSecrets(err.message) })
        return 'unreachable'
      }
      emit({ type: 'host:failed', play: play.name, host: host.name, resource: 'facts', message: maskSecrets(messageOf(err)) })
      return 'failed'
    }
    let items: PlannedItem[]
    try {
      items = expand(play, host, hostFacts)
    } catch (err) {
      recap.inputErrors++
      emit({ type: 'host:start', play: play.name, host: host.name, resources: 0 })
      emit({ type: 'host:failed', play: play.name, host: host.name, resource: 'expand', message: maskSecrets(messageOf(err)) })
      recap.host(host.name).failed++
      return 'failed'
    }
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
      ...(opts.probeTimeoutMs !== undefined ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
    })
    trace(`${host.name}: play done`)
    probeBatches.set(host.name, (probeBatches.get(host.name) ?? 0) + outcome.probeBatches)
    const r = recap.host(host.name)
    r.probeBatches = probeBatches.get(host.name)!
    Object.assign(r.stats, conn.stats)
    if (outcome.status === 'failed' && r.failed === 0) r.failed++
    emit({ type: 'host:done', play: play.name, host: host.name })
    return outcome.status
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
        if (!hostFacts) throw new Error(`play "${play.name}" has gatherFacts: false, so facts are not available`)
        return hostFacts
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
