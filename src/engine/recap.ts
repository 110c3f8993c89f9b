import { ExitCode } from '../core/errors.ts'
import { emptyStats } from '../ssh/connection.ts'
import type { HostRecap, Mode, MusterEvent, Recap } from './events.ts'

/** No resource was probed on any host: every one skipped (tags), or no host selected. */
export function checkedNothing(hosts: Record<string, HostRecap>): boolean {
  return Object.values(hosts).every((h) => h.ok + h.changed + h.unknown + h.failed === 0 && !h.unreachable)
}

/** Builds the recap from the event stream, so what is reported and what is counted never disagree. */
export class RecapCollector {
  readonly hosts: Record<string, HostRecap> = {}
  inputErrors = 0
  stopped: string | undefined

  constructor(
    readonly mode: Mode,
    private readonly opts: { checkedNothingIsError?: boolean } = {},
  ) {}

  host(name: string): HostRecap {
    return (this.hosts[name] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unknown: 0, unreachable: false, stats: emptyStats(), probeBatches: 0 })
  }

  on = (e: MusterEvent): void => {
    switch (e.type) {
      case 'run:start':
        // the recap lists hosts in inventory order, whatever order they finish in
        for (const h of e.hosts) this.host(h)
        break
      case 'host:start':
        this.host(e.host)
        break
      case 'resource:result': {
        const h = this.host(e.host)
        if (e.status === 'ok') h.ok++
        else if (e.status === 'changed' || e.status === 'would-change') h.changed++
        else if (e.status === 'failed') h.failed++
        else if (e.status === 'skipped') h.skipped++
        else if (e.status === 'unknown') h.unknown++
        break
      }
      case 'handler:result': {
        const h = this.host(e.host)
        if (e.status === 'failed') h.failed++
        else h.changed++
        break
      }
      case 'host:unreachable':
        this.host(e.host).unreachable = true
        break
      case 'play:end':
        if (e.stopped) this.stopped = e.stopped
        break
      default:
        break
    }
  }

  exitCode(): number {
    const hs = Object.values(this.hosts)
    if (this.inputErrors > 0) return ExitCode.usage
    if (hs.some((h) => h.failed > 0) || this.stopped) return ExitCode.failed
    if (hs.some((h) => h.unreachable)) return ExitCode.unreachable
    if (this.mode === 'check' && hs.some((h) => h.changed > 0 || h.unknown > 0)) return ExitCode.drift
    // a check that looked at nothing cannot say "in sync"
    if (this.mode === 'check' && (this.opts.checkedNothingIsError ?? true) && checkedNothing(this.hosts)) return ExitCode.usage
    return ExitCode.ok
  }

  recap(durationMs: number): Recap {
    return { mode: this.mode, hosts: this.hosts, durationMs, exitCode: this.exitCode() }
  }
}
