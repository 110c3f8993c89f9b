import { change, ok, resource, type ApplyContext, type Resource } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { releasePaths } from '../release.ts'
import { releaseState, type ReleaseState } from './release-state.ts'
import { describeDeploy, planDeploy, type DeployTarget } from './target.ts'
import { describeAnswer, HealthCheckError, waitForHealth } from './health.ts'

/** Options of `preSwitchCheck()`: the release to start beside the live one, its port, command and user. */
export interface PreSwitchCheckOptions {
  root: string
  target: DeployTarget
  /** The live service, to tell whether the release is already live (then there is nothing to check). */
  unit?: string
  /** A free port on 127.0.0.1 where the candidate answers (not the live one). */
  port: number
  /** What starts the release, run in its directory: `['/usr/bin/node', 'server.js']`. */
  command: readonly string[]
  /** Runs as this user (default: root). */
  user?: string
  /** systemd EnvironmentFile= for it (the live service's settings). */
  environmentFile?: string
  /** Set after the environment file, so they win over it: `{ PORT: '3001' }`. */
  env?: Readonly<Record<string, string>>
  /** Path asked on the side port (default /health). */
  healthPath?: string
  /** How long the candidate has to answer healthy (default 30 s). */
  timeoutMs?: number
  /** Its health answer must name the release id (default true). */
  expectReleaseId?: boolean
  tags?: readonly string[]
}

/**
 * Before the switch, the new release starts beside the live one (a transient
 * systemd unit, on a side port, with the live service's environment) and
 * must answer its health check; then it is stopped. A release that cannot
 * start or is unhealthy fails here, while the host still serves the old one.
 */
export function preSwitchCheck(opts: PreSwitchCheckOptions & { host: string }): Resource {
  if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) throw new Error(`preSwitchCheck: port must be 1..65535, got ${opts.port}`)
  if (opts.command.length === 0) throw new Error('preSwitchCheck: command is empty')
  return resource({
    id: `pre-switch-check:${opts.root}`,
    type: 'pre-switch-check',
    probe: { state: releaseState(opts.root, opts.unit) },
    plan({ state }) {
      const d = planDeploy(opts.target, state as ReleaseState, opts.host)
      if (d.kind === 'live') return ok(`${describeDeploy(d)}: nothing to check`)
      return change(`${describeDeploy(d)} answers ${opts.healthPath ?? '/health'} on :${opts.port}`, (ctx) => runCheck(ctx, opts, d.id))
    },
    meta: opts.tags ? { tags: opts.tags } : {},
  })
}

/** One transient unit per port: a check left running by a killed controller is stopped by the next. */
export function checkUnitName(port: number): string {
  return `muster-pre-switch-check-${port}.service`
}

export function startCommand(opts: PreSwitchCheckOptions, releaseDir: string): string {
  const unit = checkUnitName(opts.port)
  const props = [
    `--unit=${unit}`,
    '--collect',
    '--quiet',
    // never outlives a controller that died mid-check by more than this
    '--property=RuntimeMaxSec=300',
    `--working-directory=${releaseDir}`,
    ...(opts.user ? [`--uid=${opts.user}`, `--gid=${opts.user}`] : []),
    ...(opts.environmentFile ? [`--property=EnvironmentFile=${opts.environmentFile}`] : []),
  ]
  // env(1) after the EnvironmentFile: systemd lets the file win over --setenv, and the port must be ours
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`preSwitchCheck: bad environment variable name ${JSON.stringify(k)}`)
    return `${k}=${v}`
  })
  return sh`systemctl stop ${unit} 2>/dev/null; systemctl reset-failed ${unit} 2>/dev/null; systemd-run ${props} -- /usr/bin/env ${env} ${[...opts.command]}`
}

async function runCheck(ctx: ApplyContext, opts: PreSwitchCheckOptions, id: string): Promise<void> {
  const dir = releasePaths(opts.root, id).release!
  const unit = checkUnitName(opts.port)
  const url = `http://127.0.0.1:${opts.port}${opts.healthPath ?? '/health'}`
  await ctx.run(startCommand(opts, dir), { timeoutMs: 30_000 })
  try {
    const ms = await waitForHealth(ctx.conn, {
      url,
      timeoutMs: opts.timeoutMs ?? 30_000,
      ...(opts.expectReleaseId === false ? {} : { bodyIncludes: id }),
    })
    ctx.log(`release ${id} healthy on :${opts.port} after ${(ms / 1000).toFixed(1)} s`)
  } catch (err) {
    if (!(err instanceof HealthCheckError)) throw err
    const journal = await ctx.conn.exec(sh`journalctl -u ${unit} -n 12 --no-pager -o cat`, { timeoutMs: 15_000 })
    const tail = journal.stdout.trim()
    throw new Error(`release ${id} failed its pre-switch check on :${opts.port} (${describeAnswer(err.last)}); the live release was not touched${tail ? `\n${tail}` : ''}`)
  } finally {
    await ctx.conn.exec(sh`systemctl stop ${unit} 2>/dev/null; systemctl reset-failed ${unit} 2>/dev/null; true`, { timeoutMs: 60_000 })
  }
}
