import { spawn } from 'node:child_process'
import { LabCommandError } from './errors.ts'

/**
 * Commands the lab runs on the controller, always as an argv (no shell
 * parsing of our values); a script is passed to `sh -c` with its values as
 * positional parameters.
 */

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

export interface CommandOptions {
  input?: string | Buffer
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Names the lab host in errors. */
  host?: string
}

/** Controller tools live in sbin; a non-login root shell may not have it on PATH. */
const sbinPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
export function controllerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const path = process.env.PATH ? `${process.env.PATH}:${sbinPath}` : sbinPath
  return { ...process.env, PATH: path, LC_ALL: 'C', ...extra }
}

/** Run and resolve with any exit code. */
export function run(file: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? controllerEnv() })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timer: NodeJS.Timeout | undefined
    let timedOut = false
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, opts.timeoutMs)
    }
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e) => {
      if (timer) clearTimeout(timer)
      reject(new LabCommandError([file, ...args], 127, e.message, opts.host))
    })
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      const stderr = Buffer.concat(err).toString('utf8') + (timedOut ? `\n(killed after ${opts.timeoutMs} ms)` : '')
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr })
    })
    // The command may exit without reading its stdin; its exit code tells what happened.
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.input ?? '')
  })
}

/** Run and throw a LabCommandError unless it exits 0. */
export async function runOk(file: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  const r = await run(file, args, opts)
  if (r.code !== 0) throw new LabCommandError([file, ...args], r.code, r.stderr || r.stdout, opts.host)
  return r.stdout
}

/** `sh -c script sh args...`: the script refers to its values as "$1", "$2", ... */
export function runScriptOk(script: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  return runOk('/bin/sh', ['-c', script, 'sh', ...args], opts)
}
