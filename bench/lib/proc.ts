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

/**
 * The CPU time (user + system, ms) a program and everything it started used
 * to its end, from the shell's `times` for its children (in clock ticks: 10 ms
 * steps). Its output is dropped. Apart from the timed runs, so their wall
 * times are measured exactly as before.
 */
export async function runCpu(file: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; cpuMs: number }> {
  const r = await runTimed('/bin/sh', ['-c', '"$@" >/dev/null 2>&1; s=$?; times; exit $s', 'sh', file, ...args], opts)
  const cpuMs = childrenCpuMs(r.stdout)
  if (cpuMs === undefined) throw new Error(`the shell's times printed no line for its children: ${JSON.stringify(r.stdout)}`)
  return { code: r.code, cpuMs }
}

/** `times` prints the shell's own user and system time, then its children's (`0m0.320000s 0m0.040000s`; bash: `0m0.320s`). */
export function childrenCpuMs(out: string): number | undefined {
  const lines = out.trim().split('\n')
  if (lines.length < 2) return undefined
  const m = /^(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s$/.exec(lines[lines.length - 1]!.trim())
  if (!m) return undefined
  return Math.round((Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000)
}
