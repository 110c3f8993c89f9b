import { LocalConnection } from '../../src/ssh/local-connection.ts'
import { UnreachableError, type ExecOptions, type ExecResult } from '../../src/ssh/connection.ts'

/**
 * A connection that runs commands on this machine (so probes and applies are
 * real shell against a temp dir) and records every command, so engine tests
 * can assert round trips, and that check mode ran nothing but probes.
 */
export class RecordingConnection extends LocalConnection {
  readonly commands: { command: string; stdin: string }[] = []
  /** Lose the host on this exec number (1-based): it and all later execs reject. */
  loseAt: number | undefined

  override async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push({ command, stdin: opts.stdin?.toString() ?? '' })
    if (this.loseAt !== undefined && this.commands.length >= this.loseAt) throw new UnreachableError(this.host, 'connection lost')
    return super.exec(command, opts)
  }

  /** Execs that were not a batched probe or the facts script. */
  get applies(): string[] {
    return this.commands.filter((c) => !isProbe(c)).map((c) => c.command)
  }
  get probeBatches(): number {
    return this.commands.filter((c) => c.command === 'sh -s' && c.stdin.includes('__muster_')).length
  }
}

function isProbe(c: { command: string; stdin: string }): boolean {
  return c.command === 'sh -s' && (c.stdin.includes('__muster_') || c.stdin.includes('os_pretty='))
}
