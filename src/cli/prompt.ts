import { closeSync, openSync } from 'node:fs'
import tty from 'node:tty'
import { UsageError } from '../core/errors.ts'

/**
 * Hidden prompts on the terminal itself (/dev/tty), not stdin, so a value can
 * be piped in while the password is typed.
 *
 * Echo goes off before the first prompt is shown and stays off until
 * releaseTerminal() (or the process's exit): an answer typed quickly, ahead
 * of the next prompt ("again:"), is never echoed. What was typed before the
 * first prompt appeared was echoed by the terminal as it was typed, which no
 * program can undo; it is discarded, and the user is told so plainly.
 */

const interrupted = (): UsageError => new UsageError('interrupted: nothing was changed')

class HiddenTerminal {
  private pending = ''
  private waiter: { resolve: (v: string) => void; reject: (e: Error) => void } | undefined
  private gone: Error | undefined
  private closed = false

  private constructor(
    private readonly inFd: number,
    private readonly outFd: number,
    private readonly input: tty.ReadStream,
    private readonly output: tty.WriteStream,
  ) {}

  static async open(question: string): Promise<HiddenTerminal> {
    let inFd: number
    let outFd: number
    try {
      inFd = openSync('/dev/tty', 'r')
      outFd = openSync('/dev/tty', 'w')
    } catch {
      throw new UsageError(`${question.replace(/:\s*$/, '')}: no terminal to ask on; set MUSTER_VAULT_PASSWORD_FILE instead`)
    }
    const t = new HiddenTerminal(inFd, outFd, new tty.ReadStream(inFd), new tty.WriteStream(outFd))
    t.input.setRawMode(true) // echo off before anything is shown
    t.input.on('data', t.onData)
    t.input.unref() // held between prompts, it must not keep a finished command alive
    t.input.once('end', t.onGone)
    t.input.once('error', t.onGone)
    for (const s of signals) process.once(s, t.onSignal)
    process.once('exit', t.close)
    // Whatever the terminal already holds was typed before the prompt: one
    // poll of the event loop reads it (setImmediate runs after the poll phase).
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    if (t.pending !== '') {
      t.pending = ''
      t.output.write('muster: what was typed before the prompt was discarded (the terminal showed it as it was typed); type it at the prompt\n')
    }
    return t
  }

  ask(question: string): Promise<string> {
    if (this.gone) return Promise.reject(this.gone)
    this.output.write(question)
    this.input.ref() // waiting for an answer keeps the process alive
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
      this.take()
    })
  }

  /** Echo back on, the terminal as it was. Safe to call twice. */
  readonly close = (): void => {
    if (this.closed) return
    this.closed = true
    for (const s of signals) process.off(s, this.onSignal)
    process.off('exit', this.close)
    this.input.off('data', this.onData)
    try {
      this.input.setRawMode(false)
    } catch {
      // the terminal is gone: nothing to restore
    }
    this.input.destroy()
    this.output.destroy()
    for (const fd of [this.inFd, this.outFd]) {
      try {
        closeSync(fd)
      } catch {
        // already closed by the stream
      }
    }
  }

  private readonly onData = (data: Buffer): void => {
    this.pending += data.toString('utf8')
    this.take()
  }

  /** Answer the waiting prompt from what was typed, up to Enter; the rest waits for the next prompt. */
  private take(): void {
    if (!this.waiter) return
    let typed = ''
    for (let i = 0; i < this.pending.length; i++) {
      const ch = this.pending[i]!
      if (ch === '\r' || ch === '\n') {
        this.pending = this.pending.slice(i + 1).replace(/^\n/, '') // a \r\n pair is one Enter
        return this.settle(undefined, typed)
      }
      if (ch === '\u0003' || ch === '\u0004') {
        this.pending = ''
        return this.settle(interrupted())
      }
      if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1)
      else if (ch >= ' ') typed += ch
    }
  }

  private settle(err: Error | undefined, value = ''): void {
    const w = this.waiter
    if (!w) return
    this.waiter = undefined
    this.input.unref()
    this.output.write('\n')
    if (err) {
      releaseTerminal()
      w.reject(err)
    } else w.resolve(value)
  }

  private readonly onGone = (): void => {
    this.gone = new UsageError('the terminal went away: nothing was changed')
    this.settle(this.gone)
  }

  // the terminal goes back to cooked mode however the program ends
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.waiter) return this.settle(interrupted())
    releaseTerminal()
    process.kill(process.pid, signal)
  }
}

const signals = ['SIGTERM', 'SIGHUP'] as const
let session: HiddenTerminal | undefined

/** Ask on the terminal; what is typed is not echoed. */
export async function askHidden(question: string): Promise<string> {
  session ??= await HiddenTerminal.open(question)
  return session.ask(question)
}

/** Give the terminal back (echo on): before an editor, a yes/no question, or the end of the command. */
export function releaseTerminal(): void {
  session?.close()
  session = undefined
}

/** A yes/no question on the terminal (echoed); Enter takes the default. */
export async function askYesNo(question: string, yes: boolean): Promise<boolean> {
  releaseTerminal()
  const fd = openSync('/dev/tty', 'r')
  const out = openSync('/dev/tty', 'w')
  const input = new tty.ReadStream(fd)
  const output = new tty.WriteStream(out)
  output.write(`${question} [${yes ? 'Y/n' : 'y/N'}] `)
  return new Promise((resolve) => {
    input.once('data', (d: Buffer) => {
      input.destroy()
      output.destroy()
      const a = d.toString('utf8').trim().toLowerCase()
      resolve(a === '' ? yes : a.startsWith('y'))
    })
  })
}
