import type { MusterEvent } from '../engine/events.ts'
import { plainReporter } from '../report/plain.ts'
import { jsonReporter } from '../report/json.ts'
import { writeLine } from './output.ts'

export interface Reporter {
  on(e: MusterEvent): void
  close(): Promise<void>
}

/** JSON lines with --json; live progress on a terminal; plain lines in CI and pipes. */
export async function chooseReporter(opts: { json: boolean; verbose: boolean; diff: boolean; write: (l: string) => void }): Promise<Reporter> {
  if (opts.json) {
    const on = jsonReporter(opts.write)
    return { on, close: async () => {} }
  }
  const tty = process.stdout.isTTY && !process.env.CI && opts.write === defaultWrite
  // listr2 costs ~20 ms to load: only a terminal pays for it
  if (tty) return (await import('../report/tty.ts')).ttyReporter(opts)
  const on = plainReporter(opts)
  return { on, close: async () => {} }
}

/** stdout, line by line; nothing more once it is closed (src/cli/output.ts). */
export const defaultWrite = (line: string): void => writeLine(line)
