/**
 * What bin/muster.js loads first, before the rest of the CLI: for `apply` and
 * `check`, the last identical run's SSH handshakes (preconnect.ts) start here,
 * as soon as ssh2 is loaded, instead of after yargs, the engine and the
 * resources have loaded and the command line is parsed (~100 ms later; a
 * converged check of four hosts takes ~0.8 s in all).
 *
 * This module and its imports are the ssh layer only. The command line is read
 * here by a small parser that knows run-options.ts's options; anything it is
 * not sure of (an unknown option, grouped short flags, --rerun, --workers) means
 * no early start, and the run connects as it did before. The pool it starts
 * is handed to runCommand only when the key and options runCommand computes
 * from yargs's parse are the same; otherwise it is closed unused. So a wrong
 * guess here costs a wasted handshake, never a different run.
 */
import { ConnectionPool } from '../ssh/pool.ts'
import { rememberHashedLines } from '../ssh/host-key-check.ts'
import { preconnectKey, preconnectOn, readPreconnectHint, sendAheadOf } from './preconnect.ts'
import { handOver, type EarlyStart } from './early-handover.ts'
import { knownHostsMemoFile, stateDir } from './run-paths.ts'
import { PROBE_COMMAND } from '../engine/probe-batch.ts'
import { probeDeadline, probeTimeoutFromSeconds } from '../engine/probe-exec.ts'
import { trace } from '../core/trace.ts'

/** The options of apply and check (run-options.ts) that take one value, by every name they answer to. */
const VALUED = new Set(['inventory', 'i', 'limit', 'l', 'forks', 'f', 'timeout', 'probe-timeout', 'shard', 'watch', 'watch-count'])
/** Array options: each takes the words after it, up to the next option. */
const ARRAYS = new Set(['extra-vars', 'e', 'tags', 't', 'skip-tags'])
/** Boolean and count options: no value follows. */
const FLAGS = new Set(['diff', 'json', 'verbose', 'accept-new-host-keys', 'typecheck', 'allow-unmatched', 'check'].flatMap((f) => [f, `no-${f}`]))

export interface EarlyArgs {
  playbook: string
  inventory: string
  limit?: string
  shard?: string
  acceptNewHostKeys: boolean
  timeout: number
  /** --probe-timeout in ms, when given */
  probeTimeoutMs?: number
}

/** apply/check's selection from argv, or undefined when this parser is not sure it reads it as yargs will. */
export function parseEarly(argv: readonly string[]): EarlyArgs | undefined {
  const [command, ...rest] = argv
  if (command !== 'apply' && command !== 'check') return undefined
  const values = new Map<string, string>()
  const positional: string[] = []
  let accept = false
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    if (arg === '--') return undefined
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg)
      continue
    }
    const long = arg.startsWith('--')
    const eq = arg.indexOf('=')
    const name = arg.slice(long ? 2 : 1, eq < 0 ? undefined : eq)
    if (/^v+$/.test(name) || FLAGS.has(name)) {
      if (eq >= 0) return undefined
      if (name === 'accept-new-host-keys') accept = true
      if (name === 'no-accept-new-host-keys') accept = false
      continue
    }
    if (ARRAYS.has(name)) {
      // yargs's arrays take every word up to the next option; their values do not select hosts
      if (eq >= 0) return undefined
      while (i + 1 < rest.length && !rest[i + 1]!.startsWith('-')) i++
      continue
    }
    // -abc (grouped short flags), --rerun, --workers, --help, anything new: yargs alone reads those
    if ((!long && name.length > 1) || !VALUED.has(name)) return undefined
    const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i]
    if (value === undefined || values.has(canonical(name))) return undefined
    values.set(canonical(name), value)
  }
  const inventory = values.get('inventory')
  if (positional.length !== 1 || inventory === undefined) return undefined
  const timeout = values.has('timeout') ? Number(values.get('timeout')) : 10
  if (!Number.isFinite(timeout)) return undefined
  // read as runCommand reads it; a value it refuses means no early start (the run says why, and never starts)
  const probeTimeoutMs = values.has('probe-timeout') ? probeTimeoutFromSeconds(Number(values.get('probe-timeout'))) : undefined
  if (values.has('probe-timeout') && probeTimeoutMs === undefined) return undefined
  return {
    playbook: positional[0]!,
    inventory,
    ...(values.has('limit') ? { limit: values.get('limit')! } : {}),
    ...(values.has('shard') ? { shard: values.get('shard')! } : {}),
    acceptNewHostKeys: accept,
    timeout,
    ...(probeTimeoutMs !== undefined ? { probeTimeoutMs } : {}),
  }
}

function canonical(name: string): string {
  return name === 'i' ? 'inventory' : name === 'l' ? 'limit' : name === 'f' ? 'forks' : name
}

/**
 * How long the rest of the CLI waits for the early handshakes before it loads
 * beside them. Loading is synchronous JavaScript on the thread that also
 * answers each handshake's round trips, so a handshake begun under it stalls
 * until each module has loaded; and a handshake is mostly waiting on the host,
 * so holding the load back while they run costs little. Once they are done,
 * the hosts run the probes sent ahead while the CLI loads. Measured on the
 * four-host lab: handshakes and channels up ~70-100 ms after the early start
 * on a quiet machine, 10-20 ms less wall per converged check
 * (bench/HISTORY.md). The bound is for a host that is slow or gone: the CLI
 * never waits longer than this.
 */
export const EARLY_WAIT_MS = 150

/**
 * Start the early handshakes for this command line, if it is a run that
 * preconnects and the last identical run left a hint. Settles once they are
 * up (channels open, probes sent ahead) or EARLY_WAIT_MS has passed, whichever
 * comes first; at once when there is nothing to start. Never rejects.
 */
export async function startEarly(argv: readonly string[]): Promise<void> {
  if (!preconnectOn()) return
  const args = parseEarly(argv)
  if (!args) return
  const key = preconnectKey(args)
  const hint = readPreconnectHint(stateDir(), key)
  const endpoints = hint.hosts
  if (endpoints.length === 0) return
  rememberHashedLines(knownHostsMemoFile())
  const pool = new ConnectionPool({ acceptNewHostKeys: args.acceptNewHostKeys, connectTimeoutMs: args.timeout * 1000 })
  // the probe's channel runs under the deadline the run's probe will ask for (Connection.openAhead)
  const aheadTimeoutMs = probeDeadline(args.probeTimeoutMs)
  const up = pool.preconnect(endpoints, { openAhead: PROBE_COMMAND, ...(aheadTimeoutMs ? { aheadTimeoutMs } : {}), sendAhead: sendAheadOf(hint.probes) })
  trace(`early start: ${endpoints.length} handshakes begun before the CLI loaded`)
  const early: EarlyStart = { key, acceptNewHostKeys: args.acceptNewHostKeys, timeout: args.timeout, probeDeadlineMs: aheadTimeoutMs, pool }
  handOver(early)
  let timer: NodeJS.Timeout | undefined
  const done = await Promise.race([up.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(resolve, EARLY_WAIT_MS, false)))])
  clearTimeout(timer)
  trace(done ? 'early start: the handshakes are done; the CLI loads while the hosts answer' : `early start: the handshakes are not done after ${EARLY_WAIT_MS} ms; the CLI loads beside them`)
}
