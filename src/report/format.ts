import type { HostRecap, Recap, ResourceStatus } from '../engine/events.ts'
import { checkedNothing } from '../engine/recap.ts'

export const statusLabel: Record<ResourceStatus, string> = {
  ok: 'ok',
  changed: 'changed',
  'would-change': 'would change',
  unknown: 'unknown',
  failed: 'FAILED',
  skipped: 'skipped',
}

/** Ansible-style recap line: `web-01 : ok=5 changed=1 unreachable=0 failed=0 skipped=0 unknown=0` */
export function recapLine(name: string, h: HostRecap, width: number): string {
  return `${name.padEnd(width)} : ok=${h.ok} changed=${h.changed} unreachable=${h.unreachable ? 1 : 0} failed=${h.failed} skipped=${h.skipped} unknown=${h.unknown}`
}

export function statsLine(name: string, h: HostRecap, width: number): string {
  const s = h.stats
  return `${name.padEnd(width)} : execs=${s.execs} probe-batches=${h.probeBatches} sftp-ops=${s.sftpOps} bytes-sent=${s.bytesSent} bytes-received=${s.bytesReceived}`
}

export function recapBlock(recap: Recap, verbose: boolean): string[] {
  const names = Object.keys(recap.hosts)
  const width = Math.max(4, ...names.map((n) => n.length))
  const lines = ['', recap.mode === 'check' ? 'CHECK RECAP' : 'RECAP']
  for (const n of names) lines.push(recapLine(n, recap.hosts[n]!, width))
  if (verbose) {
    lines.push('', 'ROUND TRIPS')
    for (const n of names) lines.push(statsLine(n, recap.hosts[n]!, width))
  }
  lines.push(`${verdict(recap)} in ${(recap.durationMs / 1000).toFixed(2)} s (exit ${recap.exitCode})`)
  return lines
}

export function verdict(recap: Recap): string {
  switch (recap.exitCode) {
    case 0:
      return recap.mode === 'check' ? 'in sync' : 'done'
    case 2:
      return 'drift found'
    case 3:
      return 'unreachable host(s)'
    case 64:
      return recap.mode === 'check' && checkedNothing(recap.hosts) ? 'nothing checked: no resource was selected, so nothing is known to be in sync' : 'input error'
    default:
      return 'failed'
  }
}

export function indent(text: string, by = '    '): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n')
}
