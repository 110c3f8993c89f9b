import type { MusterEvent } from '../engine/events.ts'

/**
 * JSON lines: one object per line, each with a `type`. Stable for scripts and
 * dashboards (documented in the README): resource and handler results, hosts
 * unreachable or failed, a stopped play, and last the recap.
 */
const emitted = new Set<MusterEvent['type']>(['run:start', 'resource:result', 'handler:result', 'host:unreachable', 'host:failed', 'play:end', 'warning', 'run:end'])

export function jsonReporter(write: (line: string) => void): (e: MusterEvent) => void {
  return (e) => {
    if (!emitted.has(e.type)) return
    if (e.type === 'play:end' && !e.stopped) return
    write(JSON.stringify(e))
  }
}
