import { appendFileSync } from 'node:fs'
import type { Connection, ExecOptions, ExecResult } from '../ssh/connection.ts'
import { PROBE_COMMAND, READ_ONLY_HEADER } from './probe-batch.ts'
import { deadlineCommand } from '../ssh/deadline.ts'

/** Something tried to change a host in check mode: a bug in muster or in a custom resource. */
export class CheckModeViolation extends Error {
  constructor(host: string, what: string) {
    super(`${host}: check mode refused to ${what}; check mode never changes a host`)
    this.name = 'CheckModeViolation'
  }
}

/**
 * Check mode is enforced by the engine, not trusted to each resource: the
 * connection a check run uses carries probe scripts and nothing else. Probe
 * scripts are read-only by construction (fact kinds print state); anything
 * else (an apply, an upload, a handler) is refused here.
 */
export function readOnly(conn: Connection): Connection {
  const record = recorder(conn.host)
  return {
    host: conn.host,
    get stats() {
      return conn.stats
    },
    exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
      const script = opts?.stdin?.toString() ?? ''
      if (command !== PROBE_COMMAND || !script.startsWith(READ_ONLY_HEADER)) {
        return Promise.reject(new CheckModeViolation(conn.host, `run \`${command === PROBE_COMMAND ? script.split('\n')[0] : command.slice(0, 80)}\``))
      }
      // what the host runs: the floor's client must send the very same command, its deadline included
      record?.({ kind: 'exec', command: opts?.timeoutMs ? deadlineCommand(command, opts.timeoutMs) : command, script })
      return conn.exec(command, opts)
    },
    sentAhead: (command) => conn.sentAhead?.(command),
    put: (_c, remotePath) => Promise.reject(new CheckModeViolation(conn.host, `upload ${remotePath}`)),
    get: (remotePath) => {
      record?.({ kind: 'get', path: remotePath })
      return conn.get(remotePath)
    },
    close: (opts) => conn.close(opts),
  }
}

/**
 * For `npm run bench`'s floor (bench/floor.ts) only: with MUSTER_RECORD_PROBES
 * set to a file, a check appends each host's probe scripts and reads to it,
 * one JSON line each, in the order it sends them, so a minimal ssh2 client can
 * send the very same ones. Check mode only: what passes here is read-only
 * probes, never an apply's content.
 */
function recorder(host: string): ((op: { kind: 'exec'; command: string; script: string } | { kind: 'get'; path: string }) => void) | undefined {
  const file = process.env.MUSTER_RECORD_PROBES
  if (!file) return undefined
  return (op) => appendFileSync(file, JSON.stringify({ host, ...op }) + '\n', { mode: 0o600 })
}
