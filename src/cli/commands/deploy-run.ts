import type { Argv } from 'yargs'
import { checkPlaybookVars } from '../../engine/check-vars.ts'
import { loadPlaybook } from '../load-playbook.ts'
import { bindPlaybook } from '../../engine/play-hosts.ts'
import { writeRunLog } from '../run-log.ts'
import { defaultWrite } from '../reporter.ts'
import { commandStart, parseExtraVars, stateDir } from '../run-command.ts'
import { loadInventory } from '../../inventory/load.ts'
import { selectHosts } from '../../inventory/patterns.ts'
import type { Inventory } from '../../inventory/types.ts'
import { runPlaybook } from '../../engine/run.ts'
import { ConnectionPool } from '../../ssh/pool.ts'
import { parseReleaseState, releaseStateCommand, type ReleaseState } from '../../resources/deploy/release-state.ts'
import { deploySettings } from '../../resources/deploy/settings.ts'
import { DeployReporter } from './deploy-report.ts'
import { interruptible } from '../interrupt.ts'
import { probeTimeoutMs, probeTimeoutOption } from './run-options.ts'

export interface DeployArgs {
  playbook: string
  inventory: string
  release?: string
  forceUnlock: boolean
  limit?: string
  extraVars?: string[]
  forks: number
  json: boolean
  verbose: number
  acceptNewHostKeys: boolean
  typecheck: boolean
  timeout: number
  probeTimeout?: number
}

/** The options deploy and rollback share. */
export function deployOptions<T>(y: Argv<T>) {
  return y
    .positional('playbook', { type: 'string', default: 'playbooks/deploy.ts', describe: 'the deploy playbook (.ts)' })
    .option('inventory', { alias: 'i', type: 'string', demandOption: true, describe: 'inventory: a .ts module, or Ansible-style YAML/INI' })
    .option('force-unlock', { type: 'boolean', default: false, describe: 'take the deploy lock even from a live holder (after making sure that deploy is dead)' })
    .option('limit', { alias: 'l', type: 'string', describe: 'only hosts matching this pattern' })
    .option('extra-vars', { alias: 'e', type: 'string', array: true, describe: 'key=value (JSON values allowed): keepReleases, healthTimeout, drainTimeout, preSwitchCheck' })
    .option('forks', { alias: 'f', type: 'number', default: 50, describe: 'hosts worked on at once (within a batch)' })
    .option('json', { type: 'boolean', default: false, describe: 'JSON lines: the engine events, a deploy:step per step, deploy:end last' })
    .option('verbose', { alias: 'v', type: 'count', describe: 'round trips per host in the recap' })
    .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys (changed keys are always refused)' })
    .option('typecheck', { type: 'boolean', default: true, describe: 'type-check the playbook first (cached); --no-typecheck skips it' })
    .option('timeout', { type: 'number', default: 10, describe: 'seconds to connect to a host' })
    .option('probe-timeout', probeTimeoutOption)
}


/**
 * Run a deploy playbook with the deploy's vars (`release`, `rollback`,
 * `forceUnlock`), read every host's releases before and after, and report
 * which host is on which release. Ctrl-C stops the rollout between batches:
 * the host in flight finishes (it is never left drained or half switched),
 * and the playbook's `always` plays (the lock's release) still run; a second
 * Ctrl-C exits at once (the lock stays, and the next deploy takes it over:
 * its holder is gone).
 */
export async function runDeploy(action: 'deploy' | 'rollback', args: DeployArgs, out: (line: string) => void = defaultWrite): Promise<number> {
  const probeMs = probeTimeoutMs(args) // a bad --probe-timeout is a usage error before anything connects
  const vars = parseExtraVars(args.extraVars ?? [])
  if (args.release !== undefined) vars.release = args.release
  if (args.forceUnlock) vars.forceUnlock = true
  if (action === 'rollback') vars.rollback = true
  const inventory = await loadInventory(args.inventory, { extraVars: vars })
  const playbook = bindPlaybook(await loadPlaybook(args.playbook, { typecheck: args.typecheck }), inventory)
  const limit = args.limit ? new Set(selectHosts(inventory, args.limit)) : undefined
  const hosts = [...new Set(playbook.plays.flatMap((p) => selectHosts(inventory, p.hosts)))].filter((h) => !limit || limit.has(h))
  checkPlaybookVars(playbook, inventory, limit)

  const reporter = new DeployReporter({ json: args.json, verbose: args.verbose > 0, action, write: out })
  const pool = new ConnectionPool({ acceptNewHostKeys: args.acceptNewHostKeys, connectTimeoutMs: args.timeout * 1000 })
  const interrupt = interruptible({
    what: 'the host(s) in flight finish, no other starts, then the deploy lock is released',
    again: 'interrupted again: exiting now. The deploy lock stays; the next deploy takes it over (its holder is gone).',
  })
  try {
    const before = await readStates(pool, inventory, hosts)
    const recap = await runPlaybook({
      playbook,
      playbookName: args.playbook,
      inventory,
      mode: 'apply',
      ...(limit ? { limit } : {}),
      forks: args.forks,
      diff: false,
      connect: (h) => pool.get(h),
      ...(probeMs !== undefined ? { probeTimeoutMs: probeMs } : {}),
      onEvent: reporter.on,
      signal: interrupt.signal,
      startedAt: commandStart(),
    })
    const after = await readStates(pool, inventory, hosts)
    const interruptCode = interrupt.exitCode()
    const end = reporter.outcome(recap, before, after, interruptCode !== undefined, interruptCode)
    reporter.end(recap, end)
    writeRunLog(stateDir(), args.playbook, args.inventory, recap)
    return end.exitCode
  } finally {
    interrupt.stop()
    await pool.closeAll()
  }
}

/** Every host's releases, read in parallel; null for a host that cannot be read. */
export async function readStates(pool: ConnectionPool, inventory: Inventory, hosts: readonly string[]): Promise<Map<string, ReleaseState | null>> {
  const states = await Promise.all(hosts.map((h) => readState(pool, inventory, h).then((s) => s, () => null)))
  return new Map(hosts.map((h, i) => [h, states[i]!]))
}

export async function readState(pool: ConnectionPool, inventory: Inventory, name: string): Promise<ReleaseState> {
  const host = inventory.hosts.get(name)
  if (!host) throw new Error(`no host ${name} in the inventory`)
  const { root, unit } = deploySettings(host.vars)
  const conn = await pool.get(host)
  const res = await conn.exec(releaseStateCommand(root, unit), { timeoutMs: 30_000 })
  if (res.code !== 0) throw new Error(`${name}: reading ${root} failed (exit ${res.code}): ${res.stderr.trim()}`)
  return parseReleaseState(res.stdout, root)
}
