import { spawn } from 'node:child_process'
import { labExec } from '../../src/lab/exec.ts'
import { labReset } from '../../src/lab/reset.ts'
import { labUp } from '../../src/lab/up.ts'
import { referenceHosts } from '../../src/lab/layout.ts'
import { muster, repoRoot, type CliResult } from './cli.ts'

/**
 * Helpers for the drift-check lab tests (issue 8): run check and apply as a
 * user would, turn their JSON lines into sets of steps, compare what check
 * predicted with what apply did, snapshot hosts, and kill an apply midway.
 */

export const SITE = ['playbooks/site.ts', '-i', 'inventory/lab.ts']
const MINUTE = 60_000

export const check = (extra: string[] = []): Promise<CliResult> => muster(['check', ...SITE, '--json', ...extra], {}, 5 * MINUTE)
export const apply = (extra: string[] = []): Promise<CliResult> => muster(['apply', ...SITE, '--json', ...extra], {}, 20 * MINUTE)

export interface ResultEvent {
  type: 'resource:result'
  play: string
  host: string
  resource: string
  resourceType: string
  status: string
  summary?: string
  diff?: string
  error?: string
}
export interface HandlerEvent {
  type: 'handler:result'
  host: string
  handler: string
  status: string
  error?: string
}

export const results = (r: CliResult): ResultEvent[] => r.events.filter((e) => e.type === 'resource:result') as unknown as ResultEvent[]
export const handlerResults = (r: CliResult): HandlerEvent[] => r.events.filter((e) => e.type === 'handler:result') as unknown as HandlerEvent[]

/** A step is a resource or a handler on a host: "web-01 apt:nginx", "lb-01 handler reload haproxy.service". */
const stepOf = (e: ResultEvent | HandlerEvent): string => (e.type === 'resource:result' ? `${e.host} ${e.resource}` : `${e.host} handler ${e.handler}`)

/** The steps of a run with one of `statuses`, resources and handlers alike, sorted. */
export function steps(r: CliResult, ...statuses: string[]): string[] {
  return [...results(r), ...handlerResults(r)]
    .filter((e) => statuses.includes(e.status))
    .map(stepOf)
    .sort()
}

/** Everything a run did not find ok, for assertion messages. */
export function explain(r: CliResult): string {
  const lines = [...results(r), ...handlerResults(r)]
    .filter((e) => e.status !== 'ok')
    .map((e) => `  ${e.status.padEnd(12)} ${stepOf(e)}: ${(e.type === 'resource:result' ? e.summary : '') ?? ''} ${e.error ?? ''}`.trimEnd())
  const other = r.events.filter((e) => e.type === 'host:unreachable' || e.type === 'host:failed').map((e) => `  ${JSON.stringify(e)}`)
  return `exit ${r.code}\n${[...lines, ...other].join('\n')}\n${r.stderr.trim()}`
}

/**
 * How check's prediction compares with the next apply, step by step (resources
 * and handlers). Counting: a `would-change` step agrees when apply changed it;
 * an `unknown` step agrees only when apply changed it too (check said "cannot
 * tell", apply did something: honest); an `unknown` step apply left alone is a
 * mismatch, as is a step apply changed that check called ok, and a failure on
 * either side.
 */
export interface Agreement {
  scenario: string
  wouldChange: string[]
  unknown: string[]
  changed: string[]
  /** Predicted (would-change, or unknown) and changed. */
  agreed: string[]
  /** Predicted but apply did not change it. */
  checkOnly: string[]
  /** Changed by apply, but check called it ok (or skipped it). */
  applyOnly: string[]
  failed: string[]
  agree: boolean
}

export function agreement(scenario: string, c: CliResult, a: CliResult): Agreement {
  const wouldChange = steps(c, 'would-change')
  const unknown = steps(c, 'unknown')
  const changed = steps(a, 'changed')
  const predicted = new Set([...wouldChange, ...unknown])
  const done = new Set(changed)
  const failed = [...steps(c, 'failed').map((s) => `check: ${s}`), ...steps(a, 'failed').map((s) => `apply: ${s}`)]
  const checkOnly = [...predicted].filter((s) => !done.has(s)).sort()
  const applyOnly = changed.filter((s) => !predicted.has(s))
  return {
    scenario,
    wouldChange,
    unknown,
    changed,
    agreed: changed.filter((s) => predicted.has(s)),
    checkOnly,
    applyOnly,
    failed,
    agree: checkOnly.length === 0 && applyOnly.length === 0 && failed.length === 0,
  }
}

/** The agreement table, one row per scenario, and the steps that disagreed under it. */
export function agreementTable(rows: readonly Agreement[]): string {
  const head = ['scenario', 'would-change', 'unknown', 'apply changed', 'agreed', 'check only', 'apply only', 'verdict']
  const body = rows.map((r) => [
    r.scenario,
    String(r.wouldChange.length),
    String(r.unknown.length),
    String(r.changed.length),
    String(r.agreed.length),
    String(r.checkOnly.length),
    String(r.applyOnly.length),
    r.agree ? 'agree' : 'DISAGREE',
  ])
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join(' | ')} |`
  const out = [line(head), `|${width.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)]
  for (const r of rows) {
    for (const s of r.checkOnly) out.push(`  ${r.scenario}: check only: ${s}${r.unknown.includes(s) ? ' (unknown)' : ''}`)
    for (const s of r.applyOnly) out.push(`  ${r.scenario}: apply only: ${s}`)
    for (const s of r.failed) out.push(`  ${r.scenario}: failed: ${s}`)
  }
  out.push('  (steps are resources and handlers per host; an unknown agrees only when apply changed it)')
  return out.join('\n')
}

/** Run a command on a lab host as root (not through sshd); a non-zero exit throws. */
export async function onHost(host: string, command: string): Promise<string> {
  const r = await labExec(host, command)
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

/**
 * What `check` must never change on a host: every path under /etc and /srv
 * (type, mode, owner, size, mtime, ctime, link target) and every regular
 * file's sha256; dpkg's database; the services' state, main PID, start time
 * and restart count; and on database servers the GTID positions, the
 * accounts (hashed) and the replication fields that matter.
 */
export const SNAPSHOT = String.raw`export LC_ALL=C
echo '## paths'
find /etc /srv -xdev -printf '%y %m %u:%g %s %T@ %C@ %p -> %l\n' 2>/dev/null | sort
echo '## sha256'
find /etc /srv -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
echo '## dpkg'
sha256sum /var/lib/dpkg/status
echo '## units'
systemctl show -p Id,LoadState,ActiveState,SubState,UnitFileState,MainPID,ActiveEnterTimestampMonotonic,NRestarts mariadb.service nginx.service app.service haproxy.service
echo '## mysql'
if command -v mariadb >/dev/null 2>&1 && mariadb -e 'SELECT 1' >/dev/null 2>&1; then
  mariadb -NB -e 'SELECT @@gtid_binlog_pos, @@gtid_slave_pos, @@read_only'
  mariadb -NB -e 'SELECT user, host, plugin, authentication_string FROM mysql.user ORDER BY user, host' | sha256sum
  mariadb -NB -e 'SELECT schema_name FROM information_schema.schemata ORDER BY 1' | tr '\n' ' '; echo
  mariadb -B -e 'SHOW SLAVE STATUS' | awk -F '\t' 'NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next } { for (i = 1; i <= NF; i++) if (name[i] ~ /^(Master_Host|Master_Port|Master_User|Slave_IO_Running|Slave_SQL_Running|Using_Gtid|Gtid_IO_Pos|SQL_Delay|Last_IO_Errno|Last_SQL_Errno|Master_Log_File|Read_Master_Log_Pos|Exec_Master_Log_Pos)$/) print name[i] "=" $i }'
fi
`

export async function snapshot(hosts: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const h of hosts) out[h] = await onHost(h, SNAPSHOT)
  return out
}

/** The lines that differ between two snapshots, per host ("-" before, "+" after); empty when equal. */
export function snapshotDiff(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = []
  for (const h of Object.keys(before)) {
    const a = new Set(before[h]!.split('\n'))
    const b = new Set((after[h] ?? '').split('\n'))
    for (const l of a) if (!b.has(l)) out.push(`${h} - ${l}`)
    for (const l of b) if (!a.has(l)) out.push(`${h} + ${l}`)
  }
  return out
}

/** Processes a cut-off apply may leave running on a host: package installs, SQL loads, unpacking. */
const BUSY = ['apt-get', 'dpkg', 'mariadb', 'mariadb-dump', 'tar', 'systemctl'].map((p) => `pgrep -x ${p} >/dev/null`).join(' || ')

/**
 * After an apply is killed, what it started on the hosts may still be running
 * (sshd does not end a command when its client vanishes: an apt-get install
 * goes on to the end). Wait until every host is quiet, so check and the next
 * apply see the same, settled state.
 */
export async function waitQuiet(hosts: readonly string[], timeoutMs = 5 * MINUTE): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    const busy: string[] = []
    for (const h of hosts) if ((await labExec(h, BUSY)).code === 0) busy.push(h)
    if (busy.length === 0) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) throw new Error(`still busy after ${timeoutMs} ms: ${busy.join(', ')}`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}

export interface KilledRun {
  /** The JSON events printed before the kill. */
  events: Record<string, unknown>[]
  /** The event that triggered the kill. */
  trigger: Record<string, unknown>
  signal: NodeJS.Signals | null
}

/**
 * Start `muster apply` as a user would and SIGKILL it `delayMs` after the first
 * JSON event `when` accepts: the controller dies without a chance to clean up,
 * as with a power cut or `kill -9`. Rejects if the run ends before that.
 */
export function applyKilled(when: (e: Record<string, unknown>) => boolean, delayMs: number): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/muster.js', 'apply', ...SITE, '--json'], {
      cwd: repoRoot,
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const events: Record<string, unknown>[] = []
    let trigger: Record<string, unknown> | undefined
    let rest = ''
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      rest += d.toString()
      const lines = rest.split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        const e = JSON.parse(line) as Record<string, unknown>
        events.push(e)
        if (!trigger && when(e)) {
          trigger = e
          setTimeout(() => child.kill('SIGKILL'), delayMs)
        }
      }
    })
    child.on('close', (code, signal) => {
      if (!trigger || signal !== 'SIGKILL') reject(new Error(`the apply ended (exit ${code}, signal ${signal}) before it could be killed midway\n${stderr}`))
      else resolve({ events, trigger, signal })
    })
  })
}

/**
 * Bare hosts again. On a busy machine the lab's reset can trip over a host
 * whose processes are slow to go (a process in uninterruptible I/O: "would not
 * die", EBUSY on its cgroup, a root still mounted); the hosts are then brought
 * up as they are and reset again after a pause, rather than the test failed on
 * the lab's account.
 */
export async function resetFleet(attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await labReset()
      return
    } catch (err) {
      if (i >= attempts) throw err
      console.warn(`      lab reset failed (${String(err).split('\n')[0]}); trying again in 20 s`)
      await new Promise((r) => setTimeout(r, 20_000))
      // a host the failed reset left down comes back first (its own stuck process may still be going)
      await labUp({ hosts: [...referenceHosts] }).catch((e: unknown) => console.warn(`      lab up: ${String(e).split('\n')[0]}`))
    }
  }
}

/** Wall time of an async step, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - t0 }
}
