import type { MusterEvent, Recap } from '../../engine/events.ts'
import { jsonReporter } from '../../report/json.ts'
import { recapBlock } from '../../report/format.ts'
import type { ReleaseState } from '../../resources/deploy/release-state.ts'

/** A release id as releaseId() makes them: what summaries name. */
const RELEASE_RE = /\b\d{8}T\d{6}Z-[0-9a-f]{12}\b/

/** One step of a deploy, as `--json` prints it (`type: "deploy:step"`). */
export interface DeployStep {
  type: 'deploy:step'
  play: string
  /** 1-based batch of the rolling play, and how many (absent outside serial plays). */
  batch?: number
  batches?: number
  host: string
  /** The resource or handler: `drain:web/web-01`, `handler return web/web-01 to rotation`. */
  step: string
  /** What kind of step: the resource's type (`drain`, `switch-release`, ...) or `handler`. */
  kind: string
  /** The release the step is about, when it names one. */
  release?: string
  status: string
  summary?: string
  error?: string
  durationMs?: number
}

export interface HostOutcome {
  /** What `current`, `previous` and the service were before the run and after it (null: the host could not be read). */
  before: ReleaseSummary | null
  after: ReleaseSummary | null
  /** From the drain to HAProxy seeing the server UP again, when it was taken out. */
  outOfRotationMs?: number
  result: 'deployed' | 'unchanged' | 'failed' | 'not started' | 'unreachable'
  error?: string
}

export interface ReleaseSummary {
  current: string | null
  previous: string | null
  running: string | null
}

/** The last line of `--json`: which host is on which release, and how long each was out of rotation. */
export interface DeployEnd {
  type: 'deploy:end'
  action: 'deploy' | 'rollback'
  hosts: Record<string, HostOutcome>
  durationMs: number
  exitCode: number
  interrupted: boolean
}

export function summarize(s: ReleaseState | null): ReleaseSummary | null {
  return s ? { current: s.current, previous: s.previous, running: s.running.release } : null
}

/**
 * Deploy progress: a line per step with its batch, host, step and release
 * (or JSON lines: the engine's events plus a `deploy:step` per step), then
 * the recap and the release every host is on.
 */
export class DeployReporter {
  readonly #write: (line: string) => void
  readonly #json: ((e: MusterEvent) => void) | undefined
  readonly #batchOf = new Map<string, { batch: number; batches: number }>()
  readonly #releaseOf = new Map<string, string>()
  readonly #drainedAt = new Map<string, number>()
  readonly #out = new Map<string, number>()
  readonly #failed = new Map<string, string>()
  readonly #notStarted = new Set<string>()
  /** Per play: hosts announced with no resources and that have shown none since (a stopped rollout's rest). */
  readonly #idle = new Map<string, Set<string>>()
  readonly #changed = new Set<string>()
  readonly #unreachable = new Set<string>()

  constructor(
    private readonly opts: { json: boolean; verbose: boolean; action: 'deploy' | 'rollback'; write: (line: string) => void; now?: () => number },
  ) {
    this.#write = opts.write
    this.#json = opts.json ? jsonReporter(opts.write) : undefined
  }

  get now(): number {
    return (this.opts.now ?? Date.now)()
  }

  on = (e: MusterEvent): void => {
    if (e.type === 'run:end') return // printed by end(), after the release table is known
    this.#json?.(e)
    switch (e.type) {
      case 'run:start':
        this.#text(`${this.opts.action.toUpperCase()} ${e.playbook} on ${e.hosts.join(' ')}`)
        break
      case 'play:start':
        this.#batchOf.clear()
        this.#text(`PLAY [${e.play}] ${e.hosts.join(' ') || '(no hosts)'}`)
        break
      case 'batch:start':
        for (const h of e.hosts) this.#batchOf.set(h, { batch: e.batch, batches: e.batches })
        this.#text(`BATCH ${e.batch}/${e.batches} ${e.hosts.join(' ')}`)
        break
      case 'host:start':
        if (e.resources === 0) this.#idleIn(e.play).add(e.host)
        break
      case 'resource:result': {
        const msg = e.error ?? e.summary
        if (e.resourceType === 'drain' && e.status === 'changed' && e.summary?.startsWith('drain ')) this.#drainedAt.set(e.host, this.now - e.durationMs)
        if (e.status === 'changed' && !e.resourceType.startsWith('deploy-')) this.#changed.add(e.host)
        if (e.status === 'failed') this.#failed.set(e.host, e.error ?? 'failed')
        this.#idleIn(e.play).delete(e.host)
        this.#step({ play: e.play, host: e.host, step: e.resource, kind: e.resourceType, status: e.status, durationMs: e.durationMs, ...(e.summary ? { summary: e.summary } : {}), ...(e.error ? { error: e.error } : {}) }, msg)
        break
      }
      case 'handler:result': {
        if (/^return .* to rotation$/.test(e.handler) && e.status === 'changed') {
          const at = this.#drainedAt.get(e.host)
          if (at !== undefined) this.#out.set(e.host, (this.#out.get(e.host) ?? 0) + (this.now - at))
          this.#drainedAt.delete(e.host)
        }
        if (e.status === 'failed') this.#failed.set(e.host, e.error ?? 'failed')
        this.#step({ play: e.play, host: e.host, step: `handler ${e.handler}`, kind: 'handler', status: e.status, ...(e.error ? { error: e.error } : {}) }, e.error ?? e.handler)
        break
      }
      case 'host:unreachable':
        this.#unreachable.add(e.host)
        this.#text(`${e.host}  UNREACHABLE  ${e.message}`)
        break
      case 'host:failed':
        this.#failed.set(e.host, this.#failed.get(e.host) ?? e.message)
        if (e.resource === 'expand' || e.resource === 'facts' || e.resource === 'probe') this.#text(`${e.host}  FAILED  ${e.resource}: ${e.message}`)
        break
      case 'log':
        if (!this.opts.json) this.#write(`      ${e.host}  ${e.message}`)
        break
      case 'play:end':
        if (e.stopped) {
          for (const h of this.#idleIn(e.play)) this.#notStarted.add(h)
          this.#text(`STOPPED [${e.play}] ${e.stopped}`)
        }
        break
      default:
        break
    }
  }

  #idleIn(play: string): Set<string> {
    let s = this.#idle.get(play)
    if (!s) this.#idle.set(play, (s = new Set()))
    return s
  }

  #text(line: string): void {
    if (!this.opts.json) this.#write(line)
  }

  #step(s: Omit<DeployStep, 'type'>, msg: string | undefined): void {
    const release = RELEASE_RE.exec(`${s.summary ?? ''} ${s.error ?? ''} ${s.step}`)?.[0] ?? this.#releaseOf.get(s.host)
    if (release) this.#releaseOf.set(s.host, release)
    const b = this.#batchOf.get(s.host)
    const step: DeployStep = { type: 'deploy:step', ...s, ...(b ? { batch: b.batch, batches: b.batches } : {}), ...(release ? { release } : {}) }
    if (this.opts.json) {
      this.#write(JSON.stringify(step))
      return
    }
    const where = b ? `[${b.batch}/${b.batches}] ` : ''
    const took = s.durationMs !== undefined && s.durationMs >= 100 ? ` (${(s.durationMs / 1000).toFixed(1)} s)` : ''
    this.#write(`  ${where}${s.host}  ${s.status.padEnd(8)} ${s.kind.padEnd(16)} ${msg ? firstLines(msg) : s.step}${took}`)
  }

  /** Which host is on which release, from what the hosts say after the run. */
  outcome(recap: Recap, before: Map<string, ReleaseState | null>, after: Map<string, ReleaseState | null>, interrupted: boolean, interruptCode = 130): DeployEnd {
    const hosts: Record<string, HostOutcome> = {}
    for (const [name, st] of after) {
      const b = summarize(before.get(name) ?? null)
      const a = summarize(st)
      const result: HostOutcome['result'] = this.#unreachable.has(name)
        ? 'unreachable'
        : this.#failed.has(name) || (recap.hosts[name]?.failed ?? 0) > 0
          ? 'failed'
          : this.#notStarted.has(name)
            ? 'not started'
            : this.#changed.has(name) && (a?.current !== b?.current || a?.running !== b?.running)
              ? 'deployed'
              : 'unchanged'
      const out = this.#out.get(name)
      hosts[name] = { before: b, after: a, result, ...(out !== undefined ? { outOfRotationMs: out } : {}), ...(result === 'failed' ? { error: this.#failed.get(name) ?? 'failed' } : {}) }
    }
    return { type: 'deploy:end', action: this.opts.action, hosts, durationMs: recap.durationMs, exitCode: interrupted ? interruptCode : recap.exitCode, interrupted }
  }

  end(recap: Recap, end: DeployEnd): void {
    if (this.opts.json) {
      this.#json?.({ type: 'run:end', recap })
      this.#write(JSON.stringify(end))
      return
    }
    for (const l of recapBlock(recap, this.opts.verbose)) this.#write(l)
    this.#write('')
    this.#write('RELEASES (as the hosts say after the run)')
    const width = Math.max(4, ...Object.keys(end.hosts).map((n) => n.length))
    for (const [name, h] of Object.entries(end.hosts)) {
      const now = h.after ? `${h.after.current ?? '(no current)'}${h.after.running && h.after.running !== h.after.current ? ` (running ${h.after.running})` : ''}` : '(could not be read)'
      const was = h.before?.current && h.before.current !== h.after?.current ? `, was ${h.before.current}` : ''
      const out = h.outOfRotationMs !== undefined ? `, out of rotation ${(h.outOfRotationMs / 1000).toFixed(1)} s` : ''
      this.#write(`${name.padEnd(width)} : ${h.result.toUpperCase()} ${now}${was}${out}${h.error ? `\n${' '.repeat(width + 3)}${firstLines(h.error, 3)}` : ''}`)
    }
    if (end.interrupted) this.#write('interrupted (Ctrl-C): the hosts in flight finished, nothing new started, the deploy lock was released')
  }
}

function firstLines(text: string, n = 1): string {
  const lines = text.trim().split('\n')
  return lines.slice(0, n).join(' | ') + (lines.length > n ? ' ...' : '')
}
