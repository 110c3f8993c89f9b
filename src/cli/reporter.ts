import type { MusterEvent } from '../engine/events.ts'
import { plainReporter } from '../report/plain.ts'
import { jsonReporter } from '../report/json.ts'
import { ttyReporter } from '../report/tty.ts'

export interface Reporter {
  on(e: MusterEvent): void
  close(): Promise<void>
}

/** JSON lines with --json; live progress on a terminal; plain lines in CI and pipes. */
export function chooseReporter(opts: { json: boolean; verbose: boolean; diff: boolean; write: (l: string) => void }): Reporter {
  if (opts.json) {
    const on = jsonReporter(opts.write)
    return { on, close: async () => {} }
  }
  const tty = process.stdout.isTTY && !process.env.CI && opts.write === defaultWrite
  if (tty) return ttyReporter(opts)
  const on = plainReporter(opts)
  return { on, close: async () => {} }
}

export const defaultWrite = (line: string): void => {
  process.stdout.write(line + '\n')
}
