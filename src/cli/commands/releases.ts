import type { CommandModule } from 'yargs'
import { loadInventory } from '../../inventory/load.ts'
import { selectHosts } from '../../inventory/patterns.ts'
import { ConnectionPool } from '../../ssh/pool.ts'
import { ExitCode } from '../../core/errors.ts'
import { deploySettings } from '../../resources/deploy/settings.ts'
import type { ReleaseState } from '../../resources/deploy/release-state.ts'
import { defaultWrite } from '../reporter.ts'
import { readState } from './deploy-run.ts'

interface ReleasesArgs {
  pattern: string
  inventory: string
  json: boolean
  acceptNewHostKeys: boolean
  timeout: number
}

export const releasesCommand: CommandModule<object, ReleasesArgs> = {
  command: 'releases [pattern]',
  describe: 'List the releases on each host (under its appRoot, default /srv/app), the current one marked',
  builder: (y) =>
    y
      .positional('pattern', { type: 'string', default: 'all', describe: 'hosts to ask (names, groups, globs, a:b, !x, &x)' })
      .option('inventory', { alias: 'i', type: 'string', demandOption: true, describe: 'inventory: a .ts module, or Ansible-style YAML/INI' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON line per host' })
      .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys (changed keys are always refused)' })
      .option('timeout', { type: 'number', default: 10, describe: 'seconds to connect to a host' })
      .example('$0 releases web -i inventory/lab.ts', 'the releases of the web hosts: * current, - previous') as never,
  handler: async (args) => {
    process.exitCode = await listReleases(args)
  },
}

export async function listReleases(args: ReleasesArgs, out: (line: string) => void = defaultWrite): Promise<number> {
  const inventory = await loadInventory(args.inventory)
  const names = selectHosts(inventory, args.pattern)
  const pool = new ConnectionPool({ acceptNewHostKeys: args.acceptNewHostKeys, connectTimeoutMs: args.timeout * 1000 })
  let code: number = ExitCode.ok
  try {
    const answers = await Promise.all(names.map((n) => readState(pool, inventory, n).then((s) => ({ s }), (err: unknown) => ({ err: err instanceof Error ? err.message : String(err) }))))
    for (const [i, name] of names.entries()) {
      const a = answers[i]!
      const { root } = deploySettings(inventory.hosts.get(name)!.vars)
      if ('err' in a) {
        code = ExitCode.unreachable
        out(args.json ? JSON.stringify({ type: 'releases', host: name, root, error: a.err }) : `${name}  ${root}: ${a.err}`)
        continue
      }
      if (args.json) out(JSON.stringify(releasesJson(name, root, a.s)))
      else for (const l of releasesText(name, root, a.s)) out(l)
    }
  } finally {
    await pool.closeAll()
  }
  return code
}

export function releasesJson(host: string, root: string, s: ReleaseState) {
  return {
    type: 'releases',
    host,
    root,
    current: s.current,
    previous: s.previous,
    running: s.running.release,
    releases: s.releases.map((r) => ({
      id: r.id,
      arrived: new Date(r.arrived * 1000).toISOString(),
      complete: r.complete,
      current: r.id === s.current,
      previous: r.id === s.previous,
      running: r.id === s.running.release,
    })),
  }
}

/** `* ` current, `- ` previous; the running process's release named when it differs from current. */
export function releasesText(host: string, root: string, s: ReleaseState): string[] {
  if (s.releases.length === 0) return [`${host}  ${root}: no releases`]
  const lines = [`${host}  ${root}${s.current === null && s.currentTarget ? ` (current -> ${s.currentTarget}, not a release)` : ''}`]
  for (const r of s.releases) {
    const mark = r.id === s.current ? '*' : r.id === s.previous ? '-' : ' '
    const notes = [
      r.id === s.current ? 'current' : '',
      r.id === s.previous ? 'previous' : '',
      r.id === s.running.release ? 'running' : '',
      r.complete ? '' : 'INCOMPLETE',
    ].filter(Boolean)
    lines.push(`  ${mark} ${r.id}  arrived ${new Date(r.arrived * 1000).toISOString()}${notes.length ? `  ${notes.join(', ')}` : ''}`)
  }
  return lines
}
