import { resolve } from 'node:path'
import { loadPlaybook } from './load-playbook.ts'
import { typecheckPlaybook } from './typecheck.ts'
import { readRunLog, writeRunLog } from './run-log.ts'
import { loadInventory } from '../inventory/load.ts'
import { selectHosts } from '../inventory/patterns.ts'
import { runPlaybook } from '../engine/run.ts'
import type { Mode, MusterEvent, Recap } from '../engine/events.ts'
import { ConnectionPool } from '../ssh/pool.ts'
import { ExitCode, UsageError } from '../core/errors.ts'
import { chooseReporter, defaultWrite } from './reporter.ts'
import type { Vars } from '../inventory/types.ts'

export interface RunArgs {
  playbook: string
  inventory: string
  limit?: string | undefined
  tags?: string[] | undefined
  skipTags?: string[] | undefined
  extraVars?: string[] | undefined
  forks: number
  diff: boolean
  json: boolean
  verbose: number
  rerun?: string | undefined
  acceptNewHostKeys: boolean
  typecheck: boolean
  timeout: number
}

export const stateDir = (): string => resolve(process.env.MUSTER_STATE_DIR ?? '.muster')

/** apply and check share everything but the mode. */
export async function runCommand(mode: Mode, args: RunArgs, out: (line: string) => void = defaultWrite): Promise<number> {
  if (args.typecheck) typecheckPlaybook(args.playbook, stateDir())
  const inventory = await loadInventory(args.inventory, { extraVars: parseExtraVars(args.extraVars ?? []) })
  const playbook = await loadPlaybook(args.playbook)

  let limit: Set<string> | undefined
  if (args.limit) limit = new Set(selectHosts(inventory, args.limit))
  if (args.rerun !== undefined) {
    if (args.rerun !== 'failed') throw new UsageError(`--rerun takes "failed", got "${args.rerun}"`)
    const log = readRunLog(stateDir())
    const again = [...log.failed, ...log.unreachable].filter((h) => !limit || limit.has(h))
    if (again.length === 0) {
      out(`--rerun failed: the last run (${log.finishedAt}) had no failed or unreachable hosts; nothing to do`)
      return ExitCode.ok
    }
    limit = new Set(again)
  }

  const reporter = await chooseReporter({ json: args.json, verbose: args.verbose > 0, diff: args.diff || mode === 'check', write: out })
  const pool = new ConnectionPool({ acceptNewHostKeys: args.acceptNewHostKeys, connectTimeoutMs: args.timeout * 1000 })
  let recap: Recap
  try {
    recap = await runPlaybook({
      playbook,
      playbookName: args.playbook,
      inventory,
      mode,
      ...(limit ? { limit } : {}),
      ...(args.tags ? { tags: args.tags } : {}),
      ...(args.skipTags ? { skipTags: args.skipTags } : {}),
      forks: args.forks,
      diff: args.diff,
      connect: (h) => pool.get(h),
      onEvent: (e: MusterEvent) => reporter.on(e),
    })
  } finally {
    await pool.closeAll()
  }
  reporter.on({ type: 'run:end', recap })
  await reporter.close()
  writeRunLog(stateDir(), args.playbook, args.inventory, recap)
  return recap.exitCode
}

/** `-e key=value` (value parsed as JSON when it parses, else a string), or `-e '{"json":"object"}'`. */
export function parseExtraVars(items: readonly string[]): Vars {
  const vars: Vars = {}
  for (const item of items) {
    if (item.trim().startsWith('{')) {
      try {
        Object.assign(vars, JSON.parse(item) as Vars)
      } catch (err) {
        throw new UsageError(`-e ${item}: not valid JSON (${(err as Error).message})`)
      }
      continue
    }
    const i = item.indexOf('=')
    if (i <= 0) throw new UsageError(`-e ${item}: expected key=value`)
    const raw = item.slice(i + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      value = raw // not JSON: a plain string, as written
    }
    vars[item.slice(0, i)] = value
  }
  return vars
}
