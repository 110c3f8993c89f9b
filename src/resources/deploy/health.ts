import type { Connection } from '../../ssh/connection.ts'
import { sh } from '../../core/sh.ts'

/** Where to ask for health, which release must answer, and for how long. */
export interface HealthOptions {
  /** Asked on the host itself (curl), so a service bound to 127.0.0.1 is reachable: `http://127.0.0.1:3000/health`. */
  url: string
  /** Give up after this long (default 30 s). */
  timeoutMs?: number
  /** Between attempts (default 250 ms). */
  intervalMs?: number
  /** The answer must have this status (default 200). */
  status?: number
  /** ... and its body must contain this text (a release id: proves the new code answers, not the old). */
  bodyIncludes?: string
}

/** What a health endpoint answered: status and body. */
export interface HealthAnswer {
  /** 0 when nothing answered. */
  status: number
  body: string
  /** curl's complaint when nothing answered. */
  error?: string
}

/** A release did not answer its health check in time (the last answer attached). */
export class HealthCheckError extends Error {
  constructor(
    readonly host: string,
    readonly url: string,
    readonly last: HealthAnswer,
    readonly waitedMs: number,
  ) {
    super(`${host}: ${url} not healthy after ${(waitedMs / 1000).toFixed(1)} s (last: ${describeAnswer(last)})`)
    this.name = 'HealthCheckError'
  }
}

export function describeAnswer(a: HealthAnswer): string {
  if (a.status === 0) return a.error ? `no answer: ${a.error}` : 'no answer'
  const body = a.body.replace(/\s+/g, ' ').trim()
  return `HTTP ${a.status}${body ? ` ${body.length > 160 ? `${body.slice(0, 157)}...` : body}` : ''}`
}

const STATUS_MARK = '\n__muster_http_status__ '

/** One GET with curl on the host: body, then the status on a marked last line. */
export function healthCommand(url: string, maxTimeSeconds = 3): string {
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new Error(`health check: ${JSON.stringify(url)} is not an http(s) URL`)
  return sh`curl -sS -o - --max-time ${maxTimeSeconds} -w ${`${STATUS_MARK}%{http_code}`} ${url}`
}

export function parseHealth(stdout: string, stderr: string): HealthAnswer {
  const i = stdout.lastIndexOf(STATUS_MARK)
  if (i < 0) return { status: 0, body: '', error: stderr.trim() || 'curl printed nothing' }
  const status = Number(stdout.slice(i + STATUS_MARK.length).trim()) || 0
  return { status, body: stdout.slice(0, i), ...(status === 0 ? { error: stderr.trim().split('\n').pop() ?? '' } : {}) }
}

export function isHealthy(a: HealthAnswer, opts: Pick<HealthOptions, 'status' | 'bodyIncludes'>): boolean {
  return a.status === (opts.status ?? 200) && (opts.bodyIncludes === undefined || a.body.includes(opts.bodyIncludes))
}

/** Ask `url` on the host until it answers healthy; throws HealthCheckError with the last answer. Resolves with the time waited. */
export async function waitForHealth(conn: Connection, opts: HealthOptions): Promise<number> {
  const started = Date.now()
  const timeoutMs = opts.timeoutMs ?? 30_000
  const cmd = healthCommand(opts.url)
  let last: HealthAnswer = { status: 0, body: '', error: 'not asked yet' }
  for (;;) {
    const res = await conn.exec(cmd, { timeoutMs: 15_000 })
    last = parseHealth(res.stdout, res.stderr)
    if (res.code === 127) throw new Error(`${conn.host}: curl is not installed; the health check needs it (apt install curl)`)
    if (isHealthy(last, opts)) return Date.now() - started
    if (Date.now() - started >= timeoutMs) {
      if (last.status !== 0 && opts.bodyIncludes !== undefined && !last.body.includes(opts.bodyIncludes)) {
        last = { ...last, body: `${last.body} [expected the body to contain ${opts.bodyIncludes}]` }
      }
      throw new HealthCheckError(conn.host, opts.url, last, Date.now() - started)
    }
    await sleep(opts.intervalMs ?? 250)
  }
}

/** Call `fn` until it returns a value, or throw `onTimeout()` after `timeoutMs`. */
export async function pollUntil<T>(timeoutMs: number, intervalMs: number, fn: () => Promise<T | undefined>, onTimeout: () => Error): Promise<T> {
  const started = Date.now()
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() - started >= timeoutMs) throw onTimeout()
    await sleep(intervalMs)
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
