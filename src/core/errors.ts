/** Exit codes scripts rely on (DESIGN.md). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  drift: 2,
  unreachable: 3,
  usage: 64,
  /** stopped by Ctrl-C (128 + SIGINT, as shells report it) */
  interrupted: 130,
  /** stdout went away mid-run (\`| head\`, a pager that quits): stopped as Ctrl-C stops (128 + SIGPIPE, as shells report it) */
  outputClosed: 141,
} as const

/**
 * Bad input from the user: a flag, a file, a pattern. Printed without a stack
 * trace; exit 64. `frames`: where the user's own code threw (file:line), shown with -v.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly frames: readonly string[] = [],
  ) {
    super(message)
    this.name = 'UsageError'
  }
}

/** A remote command failed: host, resource, command, exit code and the tail of stderr. */
export class RemoteCommandError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
    readonly resource?: string,
  ) {
    const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-8).join('\n')
    const short = command.length > 160 ? `${command.slice(0, 157)}...` : command
    super(`${host}${resource ? ` ${resource}` : ''}: \`${short}\` exited ${code}${tail ? `:\n${tail}` : ''}`)
    this.name = 'RemoteCommandError'
  }
}
