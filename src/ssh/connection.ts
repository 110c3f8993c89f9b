import type { HostInfo } from '../inventory/types.ts'

/**
 * The one interface the engine uses to talk to a host. The real one is an ssh2
 * connection (ssh2-connection.ts); tests use a scripted fake.
 */
export interface ExecOptions {
  /** Bytes written to the remote process's stdin, then EOF. Secrets travel here, never in argv. */
  stdin?: string | Buffer
  /** Run through `sudo -n` when the login user is not root. Defaults to the host's `become`. */
  become?: boolean
  /** Kill the channel and reject with a CommandTimeoutError after this long. */
  timeoutMs?: number
}

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

/** What one host's connection cost, for round-trip accounting (-v, JSON recap). */
export interface ConnectionStats {
  execs: number
  sftpOps: number
  bytesSent: number
  bytesReceived: number
}

export interface Connection {
  readonly host: string
  /** Run `command` with `sh -c` semantics on the host. Resolves with any exit code; rejects only when the host is lost or the command times out. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>
  /** Upload by SFTP to `remotePath` exactly (callers upload to a temp name and rename). */
  put(content: Buffer | string, remotePath: string, opts?: { mode?: number }): Promise<void>
  /** Download by SFTP. */
  get(remotePath: string): Promise<Buffer>
  /**
   * Say goodbye to the host. By default resolves once the host has closed its
   * side (nothing is left open behind the caller); `wait: false` only lets
   * the process exit without waiting for that answer (a CLI run at its end).
   */
  close(opts?: { wait?: boolean }): Promise<void>
  readonly stats: ConnectionStats
  /**
   * Take the run's own view of the host (its become settings) for a
   * connection opened before the run knew it: see ConnectionPool.preconnect.
   * A connection without it is never handed over that way.
   */
  rebind?(info: HostInfo): void
  /**
   * Open an exec channel for `command` ahead of the exec() that will send its
   * stdin (see Ssh2Connection.openAhead); with `send`, write that script on it
   * now, if its seal is this connection's own (seal.ts). Settles once the
   * channel is open and the script written, or cannot be; never rejects.
   */
  openAhead?(command: string, send?: SendAhead, opts?: AheadOptions): Promise<void>
  /** The script openAhead sent for `command`, not yet taken: an exec() of exactly it takes its answer. */
  sentAhead?(command: string): string | undefined
  /** This connection's seal over `text` (seal.ts), or undefined when it did not log in with a key file. */
  seal?(text: string): string | undefined
}

/** How a channel opened ahead runs its command: `timeoutMs` as the exec() that takes it will ask (ExecOptions.timeoutMs). */
export interface AheadOptions {
  timeoutMs?: number
}

/** A script to send with a channel opened ahead: a later run's first probe, recorded and sealed by an earlier one. */
export interface SendAhead {
  script: string
  seal: string
  /** What is sent: the script made ready for this run (a fresh marker), or undefined to send nothing. */
  prepare: (script: string) => string | undefined
}

/** The host cannot be reached, refused us, or went away mid-run. Exit code 3 territory. */
export class UnreachableError extends Error {
  constructor(
    readonly host: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`${host}: unreachable: ${message}`)
    this.name = 'UnreachableError'
  }
}

/** The host's key is unknown or differs from known_hosts. Never retried, never ignored. */
export class HostKeyError extends UnreachableError {
  constructor(
    host: string,
    message: string,
    readonly fingerprint: string,
  ) {
    super(host, message)
    this.name = 'HostKeyError'
  }
}

export class CommandTimeoutError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${host}: command timed out after ${timeoutMs} ms`)
    this.name = 'CommandTimeoutError'
  }
}

export function emptyStats(): ConnectionStats {
  return { execs: 0, sftpOps: 0, bytesSent: 0, bytesReceived: 0 }
}
