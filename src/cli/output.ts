/**
 * stdout that may go away: a pipe into `head`, a pager that quits, a CI log
 * collector that dies. Node reports a closed pipe as an EPIPE 'error' on
 * process.stdout, which, unhandled, ends the process with a stack trace
 * wherever it is: in the middle of an apply. Here it becomes an event that a
 * run treats like Ctrl-C (src/cli/interrupt.ts); later lines are dropped.
 */
type Listener = (why: string) => void

let closedBecause: string | undefined
const listeners = new Set<Listener>()
let guarded = false

/** Once per process (main): a closed stdout never crashes muster. */
export function guardStdout(): void {
  if (guarded) return
  guarded = true
  process.stdout.on('error', (err: NodeJS.ErrnoException) => markClosed(err.code ?? err.message))
  // stderr may be the same closed pipe (`2>&1 | head`): nothing more can be said there
  process.stderr.on('error', () => {})
}

/** One line on stdout, unless stdout is gone. */
export function writeLine(line: string): void {
  if (closedBecause !== undefined) return
  process.stdout.write(line + '\n')
  // a write to a pipe fails synchronously but its 'error' comes a tick later:
  // notice now, so the engine starts nothing more in between
  const failed = (process.stdout as { errored?: NodeJS.ErrnoException | null }).errored
  if (failed) markClosed(failed.code ?? failed.message)
}

/** Why stdout is gone ("EPIPE"), or undefined while it is writable. */
export function outputClosed(): string | undefined {
  return closedBecause
}

/** Call `l` once when stdout goes away (at once if it already has); returns the unsubscribe. */
export function onOutputClosed(l: Listener): () => void {
  if (closedBecause !== undefined) {
    l(closedBecause)
    return () => {}
  }
  listeners.add(l)
  return () => listeners.delete(l)
}

function markClosed(why: string): void {
  if (closedBecause !== undefined) return
  closedBecause = why
  for (const l of [...listeners]) l(why)
  listeners.clear()
}
