import { ExitCode } from '../core/errors.ts'
import { onOutputClosed } from './output.ts'

export interface Interrupt {
  /** Aborted on the first Ctrl-C, or when stdout goes away; its `reason` says which ('Ctrl-C' | 'output closed'). */
  signal: AbortSignal
  /** The exit code an interrupted run ends with: 130 (Ctrl-C) or 141 (output closed); undefined while not interrupted. */
  exitCode(): number | undefined
  stop(): void
}

export const INTERRUPT_REASON = { sigint: 'Ctrl-C', outputClosed: 'output closed' } as const

/**
 * Ctrl-C for a run that must not stop mid-step: the first press aborts (the
 * engine lets what is in flight finish, then starts nothing), a second exits
 * at once with 130. stdout going away (`| head`, a pager that quits) is the
 * same first press: nobody is reading any more, so nothing new starts, but
 * what is in flight still finishes. `stop()` removes the handlers when the run is over.
 */
export function interruptible(messages: { what: string; again: string }): Interrupt {
  const abort = new AbortController()
  const onSigint = (): void => {
    if (abort.signal.aborted) {
      process.stderr.write(`muster: ${messages.again}\n`)
      process.exit(ExitCode.interrupted)
    }
    abort.abort(INTERRUPT_REASON.sigint)
    process.stderr.write(`muster: interrupted: ${messages.what} (Ctrl-C again to exit at once)\n`)
  }
  process.on('SIGINT', onSigint)
  const unsubscribe = onOutputClosed((why) => {
    if (abort.signal.aborted) return
    abort.abort(INTERRUPT_REASON.outputClosed)
    process.stderr.write(`muster: stdout was closed (${why}): ${messages.what}\n`)
  })
  return {
    signal: abort.signal,
    exitCode: () => (!abort.signal.aborted ? undefined : abort.signal.reason === INTERRUPT_REASON.outputClosed ? ExitCode.outputClosed : ExitCode.interrupted),
    stop: () => {
      process.off('SIGINT', onSigint)
      unsubscribe()
    },
  }
}
