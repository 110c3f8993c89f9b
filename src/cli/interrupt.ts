import { ExitCode } from '../core/errors.ts'

/**
 * Ctrl-C for a run that must not stop mid-step: the first press aborts (the
 * engine lets what is in flight finish, then starts nothing), a second exits
 * at once with 130. `stop()` removes the handler when the run is over.
 */
export function interruptible(messages: { first: string; again: string }): { signal: AbortSignal; stop: () => void } {
  const abort = new AbortController()
  const onSigint = (): void => {
    if (abort.signal.aborted) {
      process.stderr.write(`muster: ${messages.again}\n`)
      process.exit(ExitCode.interrupted)
    }
    abort.abort()
    process.stderr.write(`muster: ${messages.first}\n`)
  }
  process.on('SIGINT', onSigint)
  return { signal: abort.signal, stop: () => process.off('SIGINT', onSigint) }
}
