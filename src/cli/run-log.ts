import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Recap } from '../engine/events.ts'
import { UsageError } from '../core/errors.ts'

/** What `--rerun failed` needs from the last run: kept in .muster/last-run.json beside the project. */
export interface RunLog {
  playbook: string
  inventory: string
  finishedAt: string
  exitCode: number
  failed: string[]
  unreachable: string[]
  /** Ctrl-C stopped the run: these hosts did not get to the end of the playbook. */
  interrupted?: string[]
}

/** The log's file: one per shard, so shards sharing a directory do not overwrite each other's. */
export function runLogFile(dir: string, shard?: { index: number; count: number }): string {
  return join(dir, shard ? `last-run.shard-${shard.index}-of-${shard.count}.json` : 'last-run.json')
}

export function writeRunLog(dir: string, playbook: string, inventory: string, recap: Recap, opts: { interrupted?: boolean; shard?: { index: number; count: number } } = {}): void {
  const hosts = Object.entries(recap.hosts)
  const log: RunLog = {
    playbook,
    inventory,
    finishedAt: new Date().toISOString(),
    exitCode: recap.exitCode,
    failed: hosts.filter(([, h]) => h.failed > 0 && !h.unreachable).map(([n]) => n),
    unreachable: hosts.filter(([, h]) => h.unreachable).map(([n]) => n),
    ...(opts.interrupted ? { interrupted: hosts.filter(([, h]) => h.failed === 0 && !h.unreachable).map(([n]) => n) } : {}),
  }
  mkdirSync(dir, { recursive: true })
  writeFileSync(runLogFile(dir, opts.shard), JSON.stringify(log, null, 2) + '\n')
}

export function readRunLog(dir: string, shard?: { index: number; count: number }): RunLog {
  const file = runLogFile(dir, shard)
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunLog
  } catch {
    throw new UsageError(`--rerun failed: no earlier run recorded in ${file}`)
  }
}
