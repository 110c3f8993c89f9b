import { loadPlaybook } from './load-playbook.ts'
import { bindPlaybook } from '../engine/play-hosts.ts'
import { readRunLog, writeRunLog } from './run-log.ts'
import { loadInventory } from '../inventory/load.ts'
import { selectHosts } from '../inventory/patterns.ts'
import { runPlaybook } from '../engine/run.ts'
import type { Mode, MusterEvent, Recap } from '../engine/events.ts'
import { ConnectionPool } from '../ssh/pool.ts'
import { ExitCode, UsageError } from '../core/errors.ts'
import { chooseReporter, defaultWrite } from './reporter.ts'
import type { Vars } from '../inventory/types.ts'
import { checkPlaybookVars } from '../engine/check-vars.ts'
import { trace } from '../core/trace.ts'
import { interruptible } from './interrupt.ts'
import { parseShard, planShard } from '../engine/shard.ts'
import type { ShardInfo } from '../engine/events.ts'
import { outputClosed } from './output.ts'
import { runInWorkers, workerPlan } from './run-workers.ts'
import { preconnectKey, preconnectOn, readPreconnectHint, sealedProbes, sendAheadOf, writePreconnect } from './preconnect.ts'
import { compiledInputs } from '../core/ts-module.ts'
import { PROBE_COMMAND } from '../engine/probe-batch.ts'
import { probeDeadline } from '../engine/probe-exec.ts'
import { probeTimeoutMs } from './commands/run-options.ts'
import { knownHostsMemoFile, stateDir } from './run-paths.ts'
import { takeEarly } from './early-handover.ts'
import { rememberHashedLines, saveHashedLineMemo } from '../ssh/host-key-check.ts'

export interface RunArgs {
  playbook: string
  inventory: string
  limit?: string | undefined
  tags?: string[] | undefined
  skipTags?: string[] | undefined
  extraVars?: string[] | undefined
  forks: number
  diff: boolean
  json: boolean
  verbose: number
  rerun?: string | undefined
  acceptNewHostKeys: boolean
  typecheck: boolean
  timeout: number
  /** --probe-timeout, seconds (0: none); undefined: the engine's default */
  probeTimeout?: number | undefined
  /** `K/N`: run only shard K (from 0) of N of the selected hosts */
  shard?: string | undefined
  /** Threads that split the selected hosts between them (run-workers.ts); default 1 */
  workers?: number | undefined
  /** a selection that matches nothing is a warning, not exit 64 */
  allowUnmatched?: boolean
  /** check only: seconds between checks */
  watch?: number | undefined
  /** check --watch: stop after this many checks (for scripts and tests) */
  watchCount?: number | undefined
}

export { knownHostsMemoFile, stateDir }

/** Write the memo of hashed known_hosts lines; one that cannot be written never fails a run. */
export async function saveKnownHostsMemo(): Promise<void> {
  await saveHashedLineMemo().catch((e: unknown) => trace(`known_hosts memo not written: ${(e as Error).message}`))
}

/** apply and check share everything but the mode. */
export async function runCommand(mode: Mode, args: RunArgs, out: (line: string) => void = defaultWrite): Promise<number> {
  trace('start')
  const probeMs = probeTimeoutMs(args) // a bad --probe-timeout is a usage error before anything connects
  // the last identical run's hosts: their handshakes overlap loading the playbook and inventory (preconnect.ts)
  const preconnect = preconnectOn() && args.rerun === undefined && (args.workers ?? 1) <= 1 ? preconnectKey(args) : undefined
  const pool = takeEarlyPool(args, preconnect, probeDeadline(probeMs)) ?? newPool(args, preconnect, probeDeadline(probeMs))
  try {
    return await runWithPool(mode, args, out, pool, preconnect, probeMs)
  } finally {
    // also when loading failed: connections opened early must not hold the process open. Every
    // command has finished by now: the hosts' answers to our goodbyes are not worth waiting for
    await pool.closeAll({ wait: false })
    await saveKnownHostsMemo()
    if (pool.preconnected.opened > 0) trace(`preconnect: ${pool.preconnected.used} of ${pool.preconnected.opened} early connections used`)
  }
}

/** The pool early.ts started before the CLI loaded, when it read the command line as yargs did; otherwise it is closed unused. */
function takeEarlyPool(args: RunArgs, preconnect: string | undefined, aheadTimeoutMs: number | undefined): ConnectionPool | undefined {
  const early = takeEarly()
  if (!early) return undefined
  if (early.key === preconnect && early.acceptNewHostKeys === args.acceptNewHostKeys && early.timeout === args.timeout && early.probeDeadlineMs === aheadTimeoutMs)
    return early.pool
  trace('early start: the command line reads otherwise; its connections are closed unused')
  void early.pool.closeAll({ wait: false })
  return undefined
}

function newPool(args: RunArgs, preconnect: string | undefined, aheadTimeoutMs: number | undefined): ConnectionPool {
  rememberHashedLines(knownHostsMemoFile())
  const pool = new ConnectionPool({ acceptNewHostKeys: args.acceptNewHostKeys, connectTimeoutMs: args.timeout * 1000 })
  // and each one's first probe channel: `sh -s` waits for the script on stdin, so the host's session set-up overlaps too
  if (preconnect !== undefined) {
    const hint = readPreconnectHint(stateDir(), preconnect)
    // settles without rejecting; the run waits on each host in get()
    void pool.preconnect(hint.hosts, { openAhead: PROBE_COMMAND, ...(aheadTimeoutMs ? { aheadTimeoutMs } : {}), sendAhead: sendAheadOf(hint.probes) })
  }
  return pool
}

async function runWithPool(mode: Mode, args: RunArgs, out: (line: string) => void, pool: ConnectionPool, preconnect: string | undefined, probeMs: number | undefined): Promise<number> {
  const loaded = await loadPlaybook(args.playbook, { typecheck: args.typecheck })
  trace('playbook loaded')
  const inventory = await loadInventory(args.inventory, { extraVars: parseExtraVars(args.extraVars ?? []) })
  trace('inventory loaded')
  // plays whose hosts are made of vars (hostsFrom) take the inventory's group names, before anything else
  const playbook = bindPlaybook(loaded, inventory)

  const shardSpec = args.shard !== undefined ? parseShard(args.shard) : undefined
  let limit: Set<string> | undefined
  if (args.limit) limit = new Set(selectHosts(inventory, args.limit))
  if (args.rerun !== undefined) {
    if (args.rerun !== 'failed') throw new UsageError(`--rerun takes "failed", got "${args.rerun}"`)
    const log = readRunLog(stateDir(), shardSpec)
    const again = [...log.failed, ...log.unreachable, ...(log.interrupted ?? [])].filter((h) => !limit || limit.has(h))
    if (again.length === 0) {
      out(`--rerun failed: the last run (${log.finishedAt}) had no failed, unreachable or interrupted hosts; nothing to do`)
      return ExitCode.ok
    }
    limit = new Set(again)
  }

  // every host's vars against every role it will run, before any host is touched
  // (all of the run's hosts, not only this shard's: every shard refuses alike)
  checkPlaybookVars(playbook, inventory, limit)
  let shard: ShardInfo | undefined
  if (shardSpec) {
    if (args.watch !== undefined) throw new UsageError('--shard and --watch do not go together: a watch reports one fleet, a shard a part of one')
    const plan = planShard(playbook, inventory, mode, shardSpec, limit)
    shard = { index: plan.spec.index, count: plan.spec.count, selected: plan.selected }
    limit = plan.mine
  }

  const reporter = await chooseReporter({ json: args.json, verbose: args.verbose > 0, diff: args.diff || mode === 'check', write: out })
  // Ctrl-C in apply: never leave a resource half done. Each host finishes the one in
  // flight and runs the handlers of what changed (a changed config must take effect);
  // nothing else starts. A second Ctrl-C exits at once. stdout closing (`| head`) is the
  // same first Ctrl-C. A check changes nothing: Ctrl-C ends it, and with stdout closed
  // it runs to its end, so its exit code still says whether anything drifted.
  const interrupt =
    mode === 'apply'
      ? interruptible({
          what: 'each host finishes the resource in flight and the handlers of its changes; nothing else starts',
          again: 'interrupted again: exiting now',
        })
      : undefined
  const interrupted = (): boolean => interrupt?.signal.aborted ?? false
  // each host's first probe, for the next identical run to send ahead (preconnect.ts)
  const firstProbes = new Map<string, string>()
  const runOnce = (onEvent: (e: MusterEvent) => void, startedAt?: number): Promise<Recap> =>
    runPlaybook({
      playbook,
      playbookName: args.playbook,
      inventory,
      mode,
      ...(limit ? { limit, limitLabel: limitLabel(args, limit) } : {}),
      ...(shard ? { shard } : {}),
      allowUnmatched: args.allowUnmatched ?? false,
      ...(args.tags ? { tags: args.tags } : {}),
      ...(args.skipTags ? { skipTags: args.skipTags } : {}),
      forks: args.forks,
      diff: args.diff,
      connect: (h) => pool.get(h),
      ...(probeMs !== undefined ? { probeTimeoutMs: probeMs } : {}),
      ...(preconnect !== undefined ? { onFirstProbe: (host: string, script: string) => void firstProbes.set(host, script) } : {}),
      onEvent,
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(interrupt ? { signal: interrupt.signal, stopBetweenResources: true } : {}),
    })
  // --workers: the same run over threads (never with --watch, whose later checks reuse this thread's connections)
  if ((args.workers ?? 1) > 1 && args.watch !== undefined) throw new UsageError('--workers and --watch do not go together: a watch keeps one set of connections open between checks')
  const split = workerPlan({
    playbook,
    inventory,
    mode,
    limit,
    limitLabel: limit ? limitLabel(args, limit) : '--limit',
    shard,
    tags: args.tags,
    skipTags: args.skipTags,
    allowUnmatched: args.allowUnmatched ?? false,
    workers: args.workers ?? 1,
    acceptNewHostKeys: args.acceptNewHostKeys,
  })
  if ('single' in split && (args.workers ?? 1) > 1) trace(`--workers ${args.workers}: one thread (${split.single})`)
  if ('parts' in split) trace(`--workers ${args.workers}: ${split.parts.length} threads over ${split.parts.map((p) => p.length).join(' + ')} hosts`)
  let recap: Recap
  try {
    const firstEvents: MusterEvent[] = []
    const onFirst = (e: MusterEvent): void => {
      reporter.on(e)
      if (args.watch !== undefined) firstEvents.push(e)
    }
    recap =
      'parts' in split
        ? await runInWorkers(
            {
              mode,
              playbookFile: args.playbook,
              playbook,
              inventoryFile: args.inventory,
              inventory,
              extraVars: args.extraVars ?? [],
              limit,
              limitLabel: limit ? limitLabel(args, limit) : '--limit',
              shard,
              tags: args.tags,
              skipTags: args.skipTags,
              allowUnmatched: args.allowUnmatched ?? false,
              forks: args.forks,
              diff: args.diff,
              timeoutSeconds: args.timeout,
              ...(probeMs !== undefined ? { probeTimeoutMs: probeMs } : {}),
              acceptNewHostKeys: args.acceptNewHostKeys,
              workers: args.workers ?? 1,
              onEvent: onFirst,
              signal: interrupt?.signal,
              startedAt: commandStart(),
            },
            split.parts,
            split.selected,
          )
        : await runOnce(onFirst, commandStart())
    trace('run done')
    const interruptCode = interrupt?.exitCode()
    if (interruptCode !== undefined) recap = { ...recap, exitCode: interruptCode }
    reporter.on({ type: 'run:end', recap })
    await reporter.close()
    writeRunLog(stateDir(), args.playbook, args.inventory, recap, { interrupted: interrupted(), ...(shardSpec ? { shard: shardSpec } : {}) })
    if (preconnect !== undefined) {
      const probes = sealedProbes(firstProbes, (host, script) => pool.seal(host, script))
      writePreconnect(stateDir(), preconnect, [...compiledInputs(), args.playbook, args.inventory], pool.connectedHosts(), probes)
    }
    if (mode === 'check' && args.watch !== undefined) recap = (await watch(runOnce, driftOf(firstEvents), pool, args, out)) ?? recap
  } finally {
    interrupt?.stop()
  }
  return recap.exitCode
}

/** How an error names what limited the run's hosts. */
function limitLabel(args: RunArgs, limit: ReadonlySet<string>): string {
  if (args.rerun !== undefined) return `--rerun failed (hosts ${[...limit].join(', ')})`
  if (args.limit !== undefined) return `--limit '${args.limit}'`
  return `--shard ${args.shard ?? ''}`
}

/**
 * `check --watch SECONDS`: check again on a schedule over the same
 * connections and print only what changed since the previous check: a drift
 * that appeared, one that was fixed, a host lost or back.
 */
async function watch(runOnce: (on: (e: MusterEvent) => void) => Promise<Recap>, firstDrift: Map<string, Drift>, pool: ConnectionPool, args: RunArgs, out: (l: string) => void): Promise<Recap | undefined> {
  const intervalMs = Math.max(0.2, args.watch!) * 1000
  let previous = firstDrift
  let recap: Recap | undefined
  let stop = false
  const onSigint = (): void => {
    stop = true
  }
  process.once('SIGINT', onSigint)
  try {
    for (let n = 2; !stop && (args.watchCount === undefined || n <= args.watchCount); n++) {
      await new Promise((r) => setTimeout(r, intervalMs))
      if (stop || outputClosed() !== undefined) break // nobody reads the drift any more
      await pool.forgetBroken()
      const events: MusterEvent[] = []
      recap = await runOnce((e) => events.push(e))
      const now = driftOf(events)
      const at = new Date().toISOString()
      for (const [key, d] of now) {
        const before = previous.get(key)
        if (!before || before.summary !== d.summary) print(out, args.json, { type: 'drift:appeared', at, check: n, ...d })
      }
      for (const [key, d] of previous) if (!now.has(key)) print(out, args.json, { type: 'drift:fixed', at, check: n, host: d.host, resource: d.resource, summary: d.summary })
      previous = now
    }
  } finally {
    process.off('SIGINT', onSigint)
  }
  return recap
}

interface Drift {
  host: string
  resource: string
  status: string
  summary: string
  diff?: string
}

function driftOf(events: MusterEvent[]): Map<string, Drift> {
  const m = new Map<string, Drift>()
  for (const e of events) {
    if (e.type === 'resource:result' && e.status !== 'ok' && e.status !== 'skipped') {
      m.set(`${e.host}\0${e.resource}`, { host: e.host, resource: e.resource, status: e.status, summary: e.error ?? e.summary ?? e.status, ...(e.diff ? { diff: e.diff } : {}) })
    }
    if (e.type === 'host:unreachable') m.set(`${e.host}\0(host)`, { host: e.host, resource: '(host)', status: 'unreachable', summary: `unreachable: ${e.message}` })
  }
  return m
}

function print(out: (l: string) => void, json: boolean, d: { type: string; at: string; check: number; host: string; resource: string; summary: string; status?: string; diff?: string }): void {
  if (json) return out(JSON.stringify(d))
  const label = d.type === 'drift:fixed' ? 'FIXED' : 'DRIFT'
  out(`${d.at}  check ${d.check}  ${label.padEnd(6)} ${d.host}  ${d.resource}: ${d.summary}`)
  if (d.diff && d.type === 'drift:appeared') out(d.diff.trimEnd().split('\n').map((l) => `    ${l}`).join('\n'))
}

/** `-e key=value` (value parsed as JSON when it parses, else a string), or `-e '{"json":"object"}'`. */
export function parseExtraVars(items: readonly string[]): Vars {
  const vars: Vars = {}
  for (const item of items) {
    if (item.trim().startsWith('{')) {
      try {
        Object.assign(vars, JSON.parse(item) as Vars)
      } catch (err) {
        throw new UsageError(`-e ${item}: not valid JSON (${(err as Error).message})`)
      }
      continue
    }
    const i = item.indexOf('=')
    if (i <= 0) throw new UsageError(`-e ${item}: expected key=value`)
    const raw = item.slice(i + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      value = raw // not JSON: a plain string, as written
    }
    vars[item.slice(0, i)] = value
  }
  return vars
}

/**
 * When this command started, as Date.now() counts: the process's start. A
 * run's recap counts from it, so "in sync in 0.4 s" is what `time` says, with
 * loading the CLI and playbook and connecting in it (--watch's later checks
 * count from their own start).
 */
export function commandStart(): number {
  return Math.round(performance.timeOrigin)
}
