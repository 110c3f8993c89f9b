import type { ConnectionPool } from '../ssh/pool.ts'

/**
 * The pool early.ts started, waiting for runCommand. Its own module, imported
 * by both (the build puts it in a chunk they share): one instance per process.
 */
export interface EarlyStart {
  /** preconnectKey of the command line early.ts read */
  key: string
  acceptNewHostKeys: boolean
  /** --timeout, seconds */
  timeout: number
  /** the deadline its probe channels run under (probeDeadline; undefined: none) */
  probeDeadlineMs: number | undefined
  pool: ConnectionPool
}

let waiting: EarlyStart | undefined

export function handOver(early: EarlyStart): void {
  waiting = early
}

/** The early start, once: whoever takes it uses its pool or closes it. */
export function takeEarly(): EarlyStart | undefined {
  const early = waiting
  waiting = undefined
  return early
}
