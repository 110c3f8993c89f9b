import type { Argv } from 'yargs'
import { MAX_PROBE_TIMEOUT_S, PROBE_TIMEOUT_MS, probeTimeoutFromSeconds } from '../../engine/probe-exec.ts'
import { UsageError } from '../../core/errors.ts'

/** --probe-timeout, declared once for every command that probes hosts (run, deploy, rollback, facts). */
export const probeTimeoutOption = {
  type: 'number',
  default: PROBE_TIMEOUT_MS / 1000,
  describe: `seconds a host's read-only probe may run before it is killed and the host fails (a hung mount, a wedged systemd); 0: no limit, at most ${MAX_PROBE_TIMEOUT_S}`,
} as const

/** --probe-timeout in ms, checked (exit 64 for a value it cannot be): undefined leaves the engine's default (probe-exec.ts). */
export function probeTimeoutMs(args: { probeTimeout?: number | undefined }): number | undefined {
  const s = args.probeTimeout
  if (s === undefined) return undefined
  const ms = probeTimeoutFromSeconds(s)
  if (ms === undefined) throw new UsageError(`--probe-timeout takes seconds, at most ${MAX_PROBE_TIMEOUT_S} (0 for no limit), not ${s}`)
  return ms
}

/** The options apply and check share, declared once. */
export function runOptions<T>(y: Argv<T>) {
  return y
    .positional('playbook', { type: 'string', demandOption: true, describe: 'playbook module (.ts) whose default export is a playbook' })
    .option('inventory', { alias: 'i', type: 'string', demandOption: true, describe: 'inventory: a .ts module, or Ansible-style YAML/INI' })
    .option('limit', { alias: 'l', type: 'string', describe: 'only hosts matching this pattern (names, groups, globs, a:b, !x, &x)' })
    .option('tags', { alias: 't', type: 'string', array: true, describe: 'only resources with these tags (a role name is a tag)' })
    .option('skip-tags', { type: 'string', array: true, describe: 'skip resources with these tags' })
    .option('extra-vars', { alias: 'e', type: 'string', array: true, describe: 'key=value (JSON values allowed), highest precedence' })
    .option('forks', { alias: 'f', type: 'number', default: 50, describe: 'hosts worked on at once' })
    .option('diff', { type: 'boolean', default: false, describe: 'show unified diffs of content changes' })
    .option('json', { type: 'boolean', default: false, describe: 'JSON lines on stdout: one per result, then the recap' })
    .option('verbose', { alias: 'v', type: 'count', describe: 'show ok results, command logs and round trips per host' })
    .option('rerun', { type: 'string', choices: ['failed'], describe: 'run again only on hosts that failed, were unreachable or were interrupted (Ctrl-C) last time' })
    .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys (changed keys are always refused)' })
    .option('typecheck', { type: 'boolean', default: true, describe: 'type-check the playbook before running (cached); --no-typecheck skips it' })
    .option('allow-unmatched', {
      type: 'boolean',
      default: false,
      describe:
        'run even when a --tags, --skip-tags or --limit, or a play\'s hosts pattern, matches nothing (a warning instead of exit 64); a check that checks no resource still never exits 0',
    })
    .option('timeout', { type: 'number', default: 10, describe: 'seconds to connect to a host' })
    .option('probe-timeout', probeTimeoutOption)
    .option('workers', {
      type: 'number',
      default: 1,
      describe:
        'threads that split the selected hosts between them (their SSH handshakes and probes use more than one core); the output is one run\'s. A playbook --shard would refuse, or --tags naming a resource\'s own tag, stays on one thread; with --watch or --accept-new-host-keys: exit 64',
    })
    .option('shard', {
      type: 'string',
      describe: 'K/N: run only shard K (from 0) of N of the selected hosts (rendezvous hashing of host names); combine the shards\' --json outputs with `muster merge`',
    })
}

export interface ParsedRunArgs {
  playbook: string
  inventory: string
  limit?: string
  tags?: string[]
  skipTags?: string[]
  extraVars?: string[]
  forks: number
  diff: boolean
  json: boolean
  verbose: number
  rerun?: string
  acceptNewHostKeys: boolean
  typecheck: boolean
  timeout: number
  probeTimeout: number
  shard?: string
  workers: number
  allowUnmatched: boolean
}
