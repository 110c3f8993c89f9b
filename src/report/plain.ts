import type { MusterEvent } from '../engine/events.ts'
import { indent, recapBlock, statusLabel } from './format.ts'

export interface ReporterOptions {
  verbose: boolean
  diff: boolean
  write: (line: string) => void
}

/**
 * Plain, greppable lines for logs and CI: one line per result, host first.
 * `ok` and `skipped` lines only with -v; changes, failures and unknowns always.
 */
export function plainReporter(opts: ReporterOptions): (e: MusterEvent) => void {
  const w = opts.write
  return (e) => {
    switch (e.type) {
      case 'run:start':
        w(`${e.mode === 'check' ? 'CHECK' : 'APPLY'} ${e.playbook} on ${e.hosts.length} host(s): ${e.hosts.join(' ')}`)
        break
      case 'play:start':
        w(`PLAY [${e.play}] ${e.hosts.join(' ') || '(no hosts)'}`)
        break
      case 'batch:start':
        w(`BATCH ${e.batch}/${e.batches} [${e.play}] ${e.hosts.join(' ')}`)
        break
      case 'resource:result': {
        if ((e.status === 'ok' || e.status === 'skipped') && !opts.verbose) break
        const msg = e.error ?? e.summary
        w(`${e.host}  ${statusLabel[e.status].padEnd(12)} ${e.resource}${msg ? `: ${msg}` : ''}`)
        if (e.diff && (opts.diff || e.status === 'would-change')) w(indent(e.diff.trimEnd()))
        break
      }
      case 'handler:result':
        w(`${e.host}  ${(e.status === 'failed' ? 'FAILED' : e.status === 'changed' ? 'handler' : 'would run').padEnd(12)} handler ${e.handler}${e.error ? `: ${e.error}` : ''}`)
        break
      case 'host:unreachable':
        w(`${e.host}  UNREACHABLE  ${e.message}`)
        break
      case 'host:failed':
        if (e.resource === 'expand' || e.resource === 'facts' || e.resource === 'probe') w(`${e.host}  FAILED       ${e.resource}: ${e.message}`)
        if (e.frames && opts.verbose) w(indent(e.frames.map((f) => `at ${f}`).join('\n'), ' '.repeat(e.host.length + 15)))
        break
      case 'warning':
        w(`WARNING ${e.message}`)
        break
      case 'log':
        if (opts.verbose) w(`${e.host}  ${e.message}`)
        break
      case 'play:end':
        if (e.stopped) w(`PLAY STOPPED [${e.play}] ${e.stopped}`)
        break
      case 'run:end':
        for (const l of recapBlock(e.recap, opts.verbose)) w(l)
        break
      default:
        break
    }
  }
}
