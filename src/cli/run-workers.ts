import { Worker } from 'node:worker_threads'
import { ExitCode, UsageError } from '../core/errors.ts'
import type { Mode, MusterEvent, Recap, HostRecap, ShardInfo } from '../engine/events.ts'
import type { Playbook } from '../engine/playbook.ts'
import type { Inventory } from '../inventory/types.ts'
import { partitionAll, unshardable } from '../engine/shard.ts'
import { playHostsOf, SelectionError } from '../engine/selection.ts'
import { checkedNothing } from '../engine/recap.ts'
import { worstExitCode } from '../report/merge-shards.ts'
import { passwordFromEnv } from '../vault/vault.ts'

/**
 * `--workers N`: one controller process, N threads, each running the play
 * over its own partition of the selected hosts (the same rendezvous hashing
 * as `--shard`) with its own connections, so the SSH handshakes' crypto and
 * the probe parsing of a large fleet use more than one core. The threads'
 * events are merged into the one stream a single thread gives (one run:start,
 * one play:start and play:end per play with every host, each host's events
 * as it ran them) and their recaps into one recap and exit code.
 *
 * Only what runs apart without changing its result is split, by the rules of
 * `--shard` (unshardable()); otherwise, and when the selection is too small,
 * the run stays on one thread.
 */

/** What a worker thread runs (its workerData). */
export interface WorkerTask {
  mode: Mode
  playbook: string
  inventory: string
  extraVars: string[]
  /** This worker's hosts. */
  hosts: string[]
  /** Judged as one shard of this many, over these hosts (the whole run's). */
  index: number
  count: number
  selected: string[]
  allowUnmatched: boolean
  forks: number
  diff: boolean
  timeoutSeconds: number
  /** --probe-timeout in ms (0: none), when given */
  probeTimeoutMs?: number
  /** apply: stop between resources on an interrupt. */
  stopBetweenResources: boolean
}

/** Worker to main thread. */
export type WorkerMessage =
  | { type: 'events'; events: MusterEvent[] }
  | { type: 'done'; recap: Recap }
  | { type: 'error'; message: string; usage: boolean; name: string }

/** Main thread to worker. */
export type MainMessage = { type: 'abort'; reason: string }

export interface WorkerRunOptions {
  mode: Mode
  playbookFile: string
  playbook: Playbook
  inventoryFile: string
  inventory: Inventory
  extraVars: readonly string[]
  limit: ReadonlySet<string> | undefined
  limitLabel: string
  /** The run is itself one shard of a larger run (--shard). */
  shard: ShardInfo | undefined
  tags: readonly string[] | undefined
  skipTags: readonly string[] | undefined
  allowUnmatched: boolean
  forks: number
  diff: boolean
  timeoutSeconds: number
  probeTimeoutMs?: number
  acceptNewHostKeys: boolean
  workers: number
  onEvent: (e: MusterEvent) => void
  signal?: AbortSignal | undefined
  /** When the run began, as Date.now() counts: the merged recap's durationMs counts from it. */
  startedAt: number
}

/**
 * Why this run stays on one thread, or undefined with the hosts of each
 * worker (at least two non-empty parts). Thrown: the selection errors a
 * single thread would throw (exit 64), so they are said once.
 */
export function workerPlan(
  o: Pick<WorkerRunOptions, 'playbook' | 'inventory' | 'mode' | 'limit' | 'limitLabel' | 'shard' | 'tags' | 'skipTags' | 'allowUnmatched' | 'workers' | 'acceptNewHostKeys'>,
): { parts: string[][]; selected: string[] } | { single: string } {
  if (o.workers <= 1) return { single: 'one worker asked for' }
  if (o.acceptNewHostKeys) throw new UsageError('--workers and --accept-new-host-keys do not go together: record the new keys in a run on one thread first')
  const why = unshardable(o.playbook, o.mode)
  if (why) return { single: why }
  // a tag that is not a role name is judged over every host's expanded resources, which no one worker sees
  const roleNames = new Set(o.playbook.plays.flatMap((p) => p.roles.map((r) => r.name)))
  if ([...(o.tags ?? []), ...(o.skipTags ?? [])].some((t) => !roleNames.has(t))) return { single: '--tags or --skip-tags name a tag that is not a role name' }
  // a --shard process judges the selection over the whole run's hosts (as runPlaybook does) and runs its own
  const selection = playHostsOf(o.playbook, o.inventory, o.shard ? new Set(o.shard.selected) : o.limit, o.limitLabel)
  if (selection.unmatched.length > 0 && !o.allowUnmatched) throw new SelectionError(selection.unmatched)
  const selected = [...new Set(selection.hosts.flat())].filter((h) => !o.shard || !o.limit || o.limit.has(h))
  const parts = partitionAll(selected, Math.min(o.workers, selected.length)).filter((p) => p.length > 0)
  if (parts.length < 2) return { single: 'fewer than two hosts' }
  return { parts, selected }
}

function startWorker(task: WorkerTask, env: NodeJS.ProcessEnv): Worker {
  // from source (muster's own tests and bench, under tsx) through a bootstrap that registers tsx in the thread
  const entry = import.meta.url.endsWith('.ts') ? './run-worker-source.mjs' : './run-worker.js'
  return new Worker(new URL(entry, import.meta.url), { workerData: task, env })
}

/** Run the play on `parts.length` worker threads; events go to onEvent as one run's; resolves with the merged recap. */
export async function runInWorkers(o: WorkerRunOptions, parts: string[][], selected: string[]): Promise<Recap> {
  const started = o.startedAt
  // the shard judgements of each worker are over the whole run's hosts
  const judged = o.shard?.selected ?? (o.limit ? [...o.limit] : selected)
  // a vault password given in the environment was taken out of it when first read: the threads get it in theirs
  const vaultPassword = process.env.MUSTER_VAULT_PASSWORD_FILE ? undefined : passwordFromEnv()
  const env = { ...process.env, ...(vaultPassword ? { MUSTER_VAULT_PASSWORD: vaultPassword } : {}) }
  const merger = new StreamMerger(parts.length, selected, o.onEvent, { mode: o.mode, playbook: o.playbookFile, ...(o.shard ? { shard: o.shard } : {}) })
  const workers: Worker[] = []
  const onAbort = (): void => {
    const reason = typeof o.signal?.reason === 'string' ? o.signal.reason : 'aborted'
    for (const w of workers) w.postMessage({ type: 'abort', reason } satisfies MainMessage)
  }
  o.signal?.addEventListener('abort', onAbort)
  try {
    const recaps = await Promise.all(
      parts.map(
        (hosts, index) =>
          new Promise<Recap>((resolve, reject) => {
            const task: WorkerTask = {
              mode: o.mode,
              playbook: o.playbookFile,
              inventory: o.inventoryFile,
              extraVars: [...o.extraVars],
              hosts,
              index,
              count: parts.length,
              selected: judged,
              allowUnmatched: o.allowUnmatched,
              // --forks stays the number of hosts worked on at once, over all the threads
              forks: Math.max(1, Math.ceil(o.forks / parts.length)),
              diff: o.diff,
              timeoutSeconds: o.timeoutSeconds,
              ...(o.probeTimeoutMs !== undefined ? { probeTimeoutMs: o.probeTimeoutMs } : {}),
              stopBetweenResources: o.mode === 'apply',
            }
            const w = startWorker(task, env)
            workers.push(w)
            if (o.signal?.aborted) onAbort()
            let settled = false
            w.on('message', (m: WorkerMessage) => {
              if (m.type === 'events') merger.push(index, m.events)
              else if (m.type === 'done') {
                settled = true
                merger.finish(index)
                // its connections are closed: nothing of the thread is needed any more
                void w.terminate()
                resolve(m.recap)
              } else {
                settled = true
                reject(m.usage ? new UsageError(m.message) : Object.assign(new Error(m.message), { name: m.name }))
              }
            })
            w.on('error', (e) => {
              if (!settled) reject(e)
              settled = true
            })
            w.on('exit', (code) => {
              if (!settled) reject(new Error(`worker ${index + 1} of ${parts.length} exited (${code}) before its hosts were done`))
              settled = true
            })
          }),
      ),
    )
    return mergeRecaps(o.mode, selected, recaps, Math.max(0, Date.now() - started), o.shard)
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()))
    throw e
  } finally {
    o.signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * The workers' recaps as one run's: each host's own counts, in the order the
 * run selected them, and the exit code a single thread gives (the workers'
 * worst; a check that checked nothing anywhere is exit 64, as it is for one
 * thread, unless the run is itself one of several shards).
 */
export function mergeRecaps(mode: Mode, selected: readonly string[], recaps: readonly Recap[], durationMs: number, shard?: ShardInfo): Recap {
  const hosts: Record<string, HostRecap> = {}
  for (const h of selected) {
    const r = recaps.find((x) => x.hosts[h])?.hosts[h]
    if (r) hosts[h] = r
  }
  let exitCode = worstExitCode(recaps.map((r) => r.exitCode))
  if (exitCode === ExitCode.ok && mode === 'check' && !(shard && shard.count > 1) && checkedNothing(hosts)) exitCode = ExitCode.usage
  return { mode, hosts, durationMs, exitCode }
}

type PlayStart = Extract<MusterEvent, { type: 'play:start' }>
type PlayEnd = Extract<MusterEvent, { type: 'play:end' }>

/**
 * N event streams, one per worker, as the one stream a single thread gives:
 * one run:start with every host, then per play one play:start (every
 * worker's hosts of that play, in the run's order), the hosts' events as they
 * come, and one play:end when every worker that started the play has ended
 * it. A worker ahead of the others waits (its events are held) at the next
 * play:start; the workers themselves never wait for each other.
 */
export class StreamMerger {
  readonly #queues: MusterEvent[][]
  readonly #done: boolean[]
  readonly #order: Map<string, number>
  #started = false
  /** The play being emitted, with the workers in it and those that have ended it. */
  #play: { index: number; in: Set<number>; ended: Set<number>; stopped: string[]; name: string } | undefined
  readonly #warnings = new Set<string>()

  constructor(
    count: number,
    private readonly selected: readonly string[],
    private readonly emit: (e: MusterEvent) => void,
    private readonly header: { mode: Mode; playbook: string; shard?: ShardInfo },
  ) {
    this.#queues = Array.from({ length: count }, () => [])
    this.#done = Array.from({ length: count }, () => false)
    this.#order = new Map(selected.map((h, i) => [h, i]))
  }

  push(worker: number, events: readonly MusterEvent[]): void {
    this.#queues[worker]!.push(...events)
    this.#pump()
  }

  finish(worker: number): void {
    this.#done[worker] = true
    this.#pump()
  }

  #pump(): void {
    const qs = this.#queues
    if (!this.#started) {
      if (!qs.every((q, w) => q.length > 0 || this.#done[w])) return
      for (const q of qs) if (q[0]?.type === 'run:start') q.shift()
      this.emit({ type: 'run:start', mode: this.header.mode, playbook: this.header.playbook, hosts: [...this.selected], ...(this.header.shard ? { shard: this.header.shard } : {}) })
      this.#started = true
    }
    for (let progress = true; progress; ) {
      progress = false
      // forward what each worker may send now: events outside a play boundary, and its own play:end
      for (const [w, q] of qs.entries()) {
        while (q.length > 0) {
          const e = q[0]!
          if (e.type === 'play:start') {
            if (this.#play && this.#play.index === e.index && this.#play.in.has(w) && !this.#play.ended.has(w)) {
              q.shift() // already said, as part of the merged play:start
              continue
            }
            break
          }
          if (e.type === 'play:end') {
            if (!this.#play || !this.#play.in.has(w)) break
            q.shift()
            this.#play.ended.add(w)
            if (e.stopped) this.#play.stopped.push(e.stopped)
            progress = true
            continue
          }
          q.shift()
          if (e.type === 'warning') {
            if (this.#warnings.has(e.message)) continue
            this.#warnings.add(e.message)
          }
          this.emit(e)
        }
      }
      // the play in progress ends when every worker in it has ended it
      // (a thread that ended without saying so, e.g. after an error, cannot hold it open)
      if (this.#play && [...this.#play.in].every((w) => this.#play!.ended.has(w) || (this.#done[w] && qs[w]!.length === 0))) {
        const stopped = [...new Set(this.#play.stopped)]
        this.emit({ type: 'play:end', play: this.#play.name, ...(stopped.length ? { stopped: stopped.join('; ') } : {}) } satisfies PlayEnd)
        this.#play = undefined
        progress = true
      }
      // the next play starts when every worker still running is at a play:start (or done)
      if (!this.#play) {
        const heads = qs.map((q, w) => (q.length > 0 ? q[0] : this.#done[w] ? 'done' : undefined))
        if (heads.some((h) => h === undefined)) continue
        const starts = heads.filter((h): h is PlayStart => typeof h === 'object' && h.type === 'play:start')
        if (starts.length === 0) continue
        const index = Math.min(...starts.map((s) => s.index))
        const inPlay = new Set(heads.flatMap((h, w) => (typeof h === 'object' && h.type === 'play:start' && h.index === index ? [w] : [])))
        const hosts = starts
          .filter((s) => s.index === index)
          .flatMap((s) => s.hosts)
          .sort((a, b) => (this.#order.get(a) ?? 0) - (this.#order.get(b) ?? 0))
        const name = starts.find((s) => s.index === index)!.play
        this.#play = { index, in: inPlay, ended: new Set(), stopped: [], name }
        this.emit({ type: 'play:start', play: name, index, hosts })
        progress = true
      }
    }
  }
}
