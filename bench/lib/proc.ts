import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'

export interface Timed {
  code: number
  stdout: string
  stderr: string
  wallMs: number
}

/** Run a program (no shell) to its end; the wall time is from spawn to exit, as a user at a prompt would see it. */
export function runTimed(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timer: NodeJS.Timeout | undefined
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`${file} ${args.join(' ')} did not finish within ${opts.timeoutMs} ms`))
      }, opts.timeoutMs)
    }
    child.stdout!.on('data', (d: Buffer) => out.push(d))
    child.stderr!.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal ? 128 : 255), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), wallMs: performance.now() - t0 })
    })
    if (opts.input !== undefined) child.stdin!.end(opts.input)
  })
}
