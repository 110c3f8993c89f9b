import type { ClientChannel } from 'ssh2'
import { BecomeError, type BecomeGate } from './become.ts'

/** A become tool that has neither asked, refused nor started the command by now is stuck on something muster cannot answer. */
export const BECOME_ANSWER_MS = 8_000

export interface GatedChannel {
  /** stderr as it arrives: what the become tool says is kept from the command's output; returns what belongs to the command. */
  stderr(d: Buffer): Buffer | undefined
  /** The channel ended: an error when it ended before the command started. */
  ended(code: number): BecomeError | undefined
}

/**
 * Drive one exec channel through its password exchange (BecomeGate): answer
 * the prompt on stdin, then hand the channel to the command by sending its
 * stdin. `fail` is told at once of a wrong password or a silent tool, and the
 * channel is killed, so a host never hangs on a prompt.
 */
export function gateChannel(
  ch: ClientChannel,
  gate: BecomeGate,
  host: string,
  on: { start: () => void; fail: (e: BecomeError) => void; kill: () => void },
): GatedChannel {
  let started = false
  let over = false
  const error = (detail: string): BecomeError => new BecomeError(host, gate.how.method, gate.how.user, detail)
  const stop = (e: BecomeError): void => {
    if (over) return
    over = true
    clearTimeout(timer)
    on.fail(e)
    on.kill()
  }
  const timer = setTimeout(() => stop(error(gate.timedOut(BECOME_ANSWER_MS))), BECOME_ANSWER_MS)
  return {
    stderr(d) {
      if (started) return d
      if (over) return undefined
      const step = gate.feed(d.toString('utf8'))
      switch (step.kind) {
        case 'wait':
          return undefined
        case 'answer':
          ch.write(step.text)
          return undefined
        case 'fail':
          stop(error(step.message))
          return undefined
        case 'ready':
          started = true
          clearTimeout(timer)
          on.start()
          return step.rest ? Buffer.from(step.rest, 'utf8') : undefined
      }
    },
    ended(code) {
      clearTimeout(timer)
      if (started) return undefined
      over = true
      return error(gate.ended(code))
    },
  }
}
