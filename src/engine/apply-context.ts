import type { ApplyContext, RunOptions } from '../contract/resource.ts'
import type { Connection, ExecResult } from '../ssh/connection.ts'
import type { HostInfo } from '../inventory/types.ts'
import { RemoteCommandError } from '../core/errors.ts'

export interface ApplyContextOptions {
  /** The resource (or handler) on whose behalf commands run, for error messages. */
  resource?: string
  log?: (message: string) => void
  connectTo?: (hostName: string) => Promise<Connection>
}

/** The one way resources touch a host during apply. */
export function createApplyContext(host: HostInfo, conn: Connection, opts: ApplyContextOptions = {}): ApplyContext {
  return {
    host,
    conn,
    async run(command: string, ro: RunOptions = {}): Promise<ExecResult> {
      const res = await conn.exec(command, {
        ...(ro.stdin !== undefined ? { stdin: ro.stdin } : {}),
        ...(ro.become !== undefined ? { become: ro.become } : {}),
        ...(ro.timeoutMs !== undefined ? { timeoutMs: ro.timeoutMs } : {}),
      })
      const okCodes = ro.okCodes ?? [0]
      if (!okCodes.includes(res.code)) {
        throw new RemoteCommandError(host.name, command, res.code, res.stdout, res.stderr, opts.resource)
      }
      return res
    },
    log: opts.log ?? (() => {}),
    connectTo:
      opts.connectTo ??
      (async (name: string) => {
        throw new Error(`${host.name}: no connection to ${name} available in this context`)
      }),
  }
}

/** A HostInfo for tests and for the local connection. */
export function localHostInfo(name = 'localhost'): HostInfo {
  return { name, address: '127.0.0.1', port: 22, user: 'root', become: false, groups: ['all'], vars: {}, ssh: {} }
}
