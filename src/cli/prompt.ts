import { closeSync, openSync } from 'node:fs'
import tty from 'node:tty'
import { UsageError } from '../core/errors.ts'

/**
 * Ask on the terminal itself (/dev/tty), not stdin, so a value can be piped
 * in while the password is typed; what is typed is not echoed.
 */
export function askHidden(question: string): Promise<string> {
  let inFd: number
  let outFd: number
  try {
    inFd = openSync('/dev/tty', 'r')
    outFd = openSync('/dev/tty', 'w')
  } catch {
    throw new UsageError(`${question.replace(/:\s*$/, '')}: no terminal to ask on; set MUSTER_VAULT_PASSWORD_FILE instead`)
  }
  const input = new tty.ReadStream(inFd)
  const output = new tty.WriteStream(outFd)
  output.write(question)
  input.setRawMode(true)
  return new Promise((resolve, reject) => {
    let typed = ''
    const signals = ['SIGTERM', 'SIGHUP'] as const
    let finished = false
    const finish = (): void => {
      if (finished) return
      finished = true
      for (const s of signals) process.off(s, onSignal)
      input.off('end', onEnd)
      input.off('error', onEnd)
      input.setRawMode(false)
      input.off('data', onData)
      output.write('\n')
      input.destroy()
      output.destroy()
      for (const fd of [inFd, outFd]) {
        try {
          closeSync(fd)
        } catch {
          // already closed by the stream
        }
      }
    }
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish()
          return resolve(typed)
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish()
          return reject(new UsageError('interrupted: nothing was changed'))
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1)
        else if (ch >= ' ') typed += ch
      }
    }
    // the terminal goes back to cooked mode however the prompt ends
    const onSignal = (): void => {
      finish()
      reject(new UsageError('interrupted: nothing was changed'))
    }
    const onEnd = (): void => {
      finish()
      reject(new UsageError('the terminal went away: nothing was changed'))
    }
    for (const s of signals) process.once(s, onSignal)
    input.once('end', onEnd)
    input.once('error', onEnd)
    input.on('data', onData)
  })
}

/** A yes/no question on the terminal (echoed); Enter takes the default. */
export async function askYesNo(question: string, yes: boolean): Promise<boolean> {
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
