import { CommandTimeoutError, type Connection, type ExecResult } from '../ssh/connection.ts'
import { PROBE_COMMAND } from './probe-batch.ts'

/**
 * How long a host's probe may run before the host is failed, by default
 * (`--probe-timeout`, RunOptions.probeTimeoutMs). A probe only reads state:
 * on a healthy host it ends in well under a second, the largest catalogue
 * included. One that has not answered in two minutes is stuck on the host (a
 * hung network mount under a path it stats, a wedged systemd or dpkg), and a
 * drift check run from cron would otherwise wait on it for ever. The host's
 * own deadline (ssh/deadline.ts) kills what the probe left running there.
 */
export const PROBE_TIMEOUT_MS = 120_000

/** The longest `--probe-timeout` taken, in seconds: a day. Node's timers cannot count past ~24.8 days at all. */
export const MAX_PROBE_TIMEOUT_S = 86_400

/**
 * `--probe-timeout SECONDS` in ms (0: no limit), or undefined when it is no
 * such value: negative, not a number, or over MAX_PROBE_TIMEOUT_S. A positive
 * value is at least 1 ms, never rounded down to "no limit".
 */
export function probeTimeoutFromSeconds(s: number): number | undefined {
  if (!Number.isFinite(s) || s < 0 || s > MAX_PROBE_TIMEOUT_S) return undefined
  return s === 0 ? 0 : Math.max(1, Math.round(s * 1000))
}

/** The deadline probes run under: `ms` as given (0: none), else PROBE_TIMEOUT_MS. */
export function probeDeadline(ms: number | undefined): number | undefined {
  const t = ms ?? PROBE_TIMEOUT_MS
  return t > 0 ? t : undefined
}

/** A probe that did not finish under its deadline: the host fails (exit 1), the others go on. */
export class ProbeTimeoutError extends Error {
  constructor(
    readonly host: string,
    readonly timeoutMs: number,
  ) {
    super(
      `the probe did not finish in ${timeoutMs / 1000} s (--probe-timeout) and was killed: a command reading state is stuck on the host (a hung mount? a wedged systemd or dpkg?)`,
    )
    this.name = 'ProbeTimeoutError'
  }
}

/** Run a probe script on the host, under the run's probe deadline. */
export async function execProbe(conn: Connection, script: string, timeoutMs: number | undefined): Promise<ExecResult> {
  const ms = probeDeadline(timeoutMs)
  try {
    return await conn.exec(PROBE_COMMAND, { stdin: script, ...(ms ? { timeoutMs: ms } : {}) })
  } catch (err) {
    throw err instanceof CommandTimeoutError ? new ProbeTimeoutError(conn.host, err.timeoutMs) : err
  }
}
