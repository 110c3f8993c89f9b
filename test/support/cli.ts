import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Recap } from '../../src/engine/events.ts'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** The recap, when the run printed JSON lines. */
  recap?: Recap
  events: Record<string, unknown>[]
}

/** Run the real `muster` CLI as a user would: a new process, from the repo root. */
export function muster(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000, onLine?: (line: string) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/muster.js', ...args], {
      cwd: repoRoot,
      env: { ...process.env, CI: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`muster ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    let partial = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (!onLine) return
      const lines = (partial + d.toString()).split('\n')
      partial = lines.pop()!
      for (const l of lines) onLine(l)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => {
      clearTimeout(timer)
      const events: Record<string, unknown>[] = []
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          events.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          // not a JSON line: plain output mixed in
        }
      }
      const end = events.find((e) => e.type === 'run:end') as { recap: Recap } | undefined
      resolve({ code: code ?? -1, stdout, stderr, events, ...(end ? { recap: end.recap } : {}) })
    })
  })
}

export type ResultEvent = { type: 'resource:result'; host: string; resource: string; status: string; summary?: string; error?: string }

/** The run's resource results, in order. */
export const results = (r: CliResult): ResultEvent[] => r.events.filter((e) => e.type === 'resource:result') as unknown as ResultEvent[]

/** "host resource status: summary" for every result that is not ok or skipped. */
export const touched = (r: CliResult): string[] =>
  results(r)
    .filter((e) => e.status !== 'ok' && e.status !== 'skipped')
    .map((e) => `${e.host} ${e.resource} ${e.status}: ${e.summary ?? ''}`)

/** Failures that are not a resource's result: a handler, a host that failed outside its resources or was unreachable, a stopped play. */
const otherFailures = (r: CliResult): string[] =>
  r.events.flatMap((e) => {
    const x = e as Record<string, string>
    if (x.type === 'handler:result' && x.status === 'failed') return [`${x.host} handler ${x.handler}: ${x.error ?? 'failed'}`]
    if (x.type === 'host:failed') return [`${x.host} failed (${x.resource}): ${x.message}`]
    if (x.type === 'host:unreachable') return [`${x.host} unreachable: ${x.message}`]
    if (x.type === 'play:end' && x.stopped) return [`play ${x.play} stopped: ${x.stopped}`]
    return []
  })

/** For assertion messages: the exit code, what the run touched, its errors (resources, handlers, hosts, plays) and stderr. */
export const explain = (r: CliResult): string =>
  `exit ${r.code}\n${touched(r).join('\n')}\n${results(r).filter((e) => e.error).map((e) => `${e.host} ${e.resource}: ${e.error}`).join('\n')}\n${otherFailures(r).join('\n')}\n${r.stderr}`
