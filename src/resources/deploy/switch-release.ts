import { change, ok, resource, type ApplyContext, type Resource } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { RELEASE_MANIFEST, releasePaths } from '../release.ts'
import { previousLink, releaseState, type ReleaseState } from './release-state.ts'
import { describeDeploy, planDeploy, type DeployTarget, type HostDeploy } from './target.ts'
import { describeAnswer, HealthCheckError, waitForHealth } from './health.ts'

/** Options of `switchRelease()`: the release, the unit, and the health check that decides a rollback. */
export interface SwitchReleaseOptions {
  root: string
  target: DeployTarget
  /** The service that runs `current` (`app.service`). */
  unit: string
  /** How the service picks up the new release (default `systemctl restart <unit>`). */
  restart?: string
  health: {
    /** Asked on the host: `http://127.0.0.1:3000/health`. */
    url: string
    /** Default 30 s. */
    timeoutMs?: number
    /** The answer must name the release id (default true). */
    expectReleaseId?: boolean
  }
  tags?: readonly string[]
}

/**
 * Make the target release live: `previous` <- the release being left, and
 * `current` <- the target, each by renaming a new symlink over the old (a
 * reader sees the old link or the new, never none); restart the service;
 * wait for its health check. When the health check fails, the links go back
 * to what they were, the service restarts on the release it ran before, and
 * the step fails saying so: the host serves the old release, the rollout stops.
 */
export function switchRelease(opts: SwitchReleaseOptions & { host: string }): Resource {
  return resource({
    id: `switch-release:${opts.root}`,
    type: 'switch-release',
    probe: { state: releaseState(opts.root, opts.unit) },
    plan({ state }) {
      const s = state as ReleaseState
      const d = planDeploy(opts.target, s, opts.host)
      if (d.kind === 'live') return ok(`${describeDeploy(d)} (pid ${s.running.pid})`)
      // the target first: reporters take the first release id in a summary as the step's release
      const what = d.kind === 'switch' ? `release ${d.id}: switch current ${d.from ?? '(none)'} -> ${d.id}, restart ${opts.unit}` : `restart ${opts.unit} on ${describeDeploy(d)}`
      return change(`${what}, wait for health`, (ctx) => activate(ctx, opts, s, d))
    },
    meta: opts.tags ? { tags: opts.tags } : {},
  })
}

/**
 * Point `current` (and `previous`) at releases, by rename; refuses a release
 * whose manifest is missing, so `current` never names a half-unpacked one.
 */
export function switchScript(root: string, current: string, previous: string | null): string {
  const p = releasePaths(root, current)
  const lines = [
    'set -eu',
    `[ -f ${sh`${`${p.release}/${RELEASE_MANIFEST}`}`} ] || { echo ${sh`${`release ${current} is not complete on this host (no ${RELEASE_MANIFEST})`}`} >&2; exit 3; }`,
    't=',
    `trap 'rc=$?; [ -n "$t" ] && rm -f -- "$t"; exit $rc' EXIT`,
    "trap 'exit 129' HUP INT TERM",
  ]
  const link = (path: string, target: string): string[] => [
    `t=${sh`${`${path}.muster-${process.pid}-${Date.now().toString(36)}`}`}`,
    `ln -s -- ${sh`${target}`} "$t"`,
    `mv -fT -- "$t" ${sh`${path}`}`,
    't=',
  ]
  if (previous !== null) lines.push(...link(previousLink(root), releasePaths(root, previous).release!))
  lines.push(...link(p.current, p.release!))
  return lines.join('\n')
}

async function activate(ctx: ApplyContext, opts: SwitchReleaseOptions, before: ReleaseState, d: Exclude<HostDeploy, { kind: 'live' }>): Promise<void> {
  const restart = opts.restart ?? sh`systemctl restart ${opts.unit}`
  // what served before this step: the process's release, else what `current` said
  const was = before.running.release ?? before.current
  const newPrevious = d.kind === 'switch' && before.current !== null && before.current !== d.id ? before.current : before.previous
  const healthOf = (id: string) => ({
    url: opts.health.url,
    timeoutMs: opts.health.timeoutMs ?? 30_000,
    ...(opts.health.expectReleaseId === false ? {} : { bodyIncludes: id }),
  })
  if (d.kind === 'switch') await ctx.run(switchScript(opts.root, d.id, newPrevious))
  const t0 = Date.now()
  let failure: string
  try {
    await ctx.run(restart, { timeoutMs: 120_000 })
    const ms = await waitForHealth(ctx.conn, healthOf(d.id))
    ctx.log(`release ${d.id} live and healthy ${((Date.now() - t0) / 1000).toFixed(1)} s after the restart (${(ms / 1000).toFixed(1)} s waiting for health)`)
    return
  } catch (err) {
    failure = err instanceof HealthCheckError ? describeAnswer(err.last) : (err as Error).message
  }
  if (was === null || was === d.id) throw new Error(`release ${d.id} failed its health check (${failure}); no earlier release to roll back to`)
  // roll back: the links as they were, the service on the release it ran before
  ctx.log(`release ${d.id} unhealthy (${failure}): rolling back to ${was}`)
  await ctx.run(switchScript(opts.root, was, before.previous === was ? null : before.previous))
  if (before.previous === null && d.kind === 'switch') await ctx.run(sh`rm -f -- ${previousLink(opts.root)}`)
  try {
    await ctx.run(restart, { timeoutMs: 120_000 })
    await waitForHealth(ctx.conn, healthOf(was))
  } catch (err) {
    const again = err instanceof HealthCheckError ? describeAnswer(err.last) : (err as Error).message
    throw new Error(`release ${d.id} failed its health check (${failure}); rolled back to ${was}, which is NOT healthy either (${again})`)
  }
  throw new Error(`release ${d.id} failed its health check (${failure}); rolled back to ${was}, healthy again`)
}
