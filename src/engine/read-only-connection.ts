import type { Connection, ExecOptions, ExecResult } from '../ssh/connection.ts'
import { READ_ONLY_HEADER } from './probe-batch.ts'

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
  return {
    host: conn.host,
    get stats() {
      return conn.stats
    },
    exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
      const script = opts?.stdin?.toString() ?? ''
      if (command !== 'sh -s' || !script.startsWith(READ_ONLY_HEADER)) {
        return Promise.reject(new CheckModeViolation(conn.host, `run \`${command === 'sh -s' ? script.split('\n')[0] : command.slice(0, 80)}\``))
      }
      return conn.exec(command, opts)
    },
    put: (_c, remotePath) => Promise.reject(new CheckModeViolation(conn.host, `upload ${remotePath}`)),
    get: (remotePath) => conn.get(remotePath),
    close: () => conn.close(),
  }
}
