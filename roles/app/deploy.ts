// Rolling deploys of the sample app (playbooks/deploy.ts), from muster's
// public building blocks. Per host, while it still serves: upload the release,
// link shared/, start it on a side port and ask its /health. Only then out of
// HAProxy (drain, sessions to 0), switch `current`, restart, /health (rolled
// back when it fails), prune, and back into rotation once HAProxy sees it UP.
import {
  role,
  buildRelease,
  releaseUpload,
  releaseSource,
  previousRelease,
  PreviousRelease,
  deploySettings,
  deployLock,
  deployUnlock,
  drainServer,
  sharedLinks,
  preSwitchCheck,
  switchRelease,
  pruneReleases,
  DEFAULT_KEEP_RELEASES,
  type DeployTarget,
  type HostContext,
} from 'muster'

/** Paths of a release that outlive it, linked to `<appRoot>/shared/`. */
export const SHARED_LINKS = { 'public/uploads': 'uploads' } as const

const seconds = (ctx: HostContext, name: string, fallback: number): number => {
  const v = ctx.vars[name]
  if (v === undefined) return fallback * 1000
  if (typeof v !== 'number' || !(v > 0)) throw new Error(`${name} must be a number of seconds, got ${JSON.stringify(v)}`)
  return v * 1000
}

/**
 * The release this run deploys: `-e rollback=true` (what `muster rollback`
 * sets) means each host's own previous release; else `release` (what
 * `--release DIR|GIT-REF` sets), by default the app's directory as it is.
 */
function targetOf(ctx: HostContext): DeployTarget {
  if (ctx.vars.rollback === true) return previousRelease()
  const app = (ctx.vars.appSource as string | undefined) ?? new URL('../../examples/app/', import.meta.url)
  return buildRelease({ source: releaseSource(ctx.vars.release as string | undefined, { app }) })
}

export const takeDeployLock = role('deploy lock', (ctx) => {
  const { root } = deploySettings(ctx.vars)
  return [deployLock({ host: ctx.name, root, force: ctx.vars.forceUnlock === true })]
})

export const releaseDeployLock = role('deploy unlock', (ctx) => {
  const { root } = deploySettings(ctx.vars)
  return [deployUnlock({ host: ctx.name, root })]
})

export const appDeploy = role('deploy', (ctx) => {
  const { root, unit } = deploySettings(ctx.vars)
  const target = targetOf(ctx)
  const port = (ctx.vars.appPort as number | undefined) ?? 3000
  const checkPort = (ctx.vars.appCheckPort as number | undefined) ?? port + 1
  const healthTimeoutMs = seconds(ctx, 'healthTimeout', 30)
  const balancers = ctx.hostsOf((ctx.vars.deployBalancers as string | undefined) ?? 'lb').map((h) => h.name)
  if (balancers.length === 0) throw new Error('no load balancer: the inventory group `lb` (or the pattern in deployBalancers) is empty')
  const { drain } = drainServer({
    host: ctx.name,
    lb: balancers,
    backend: (ctx.vars.haproxyBackend as string | undefined) ?? 'web',
    deploy: { root, target, unit },
    drainTimeoutMs: seconds(ctx, 'drainTimeout', 30),
  })
  const fresh = !(target instanceof PreviousRelease)
  return [
    // while the host still serves: nothing here touches what is live
    fresh && releaseUpload(target, { root }),
    fresh && sharedLinks(target, { root, links: SHARED_LINKS }),
    ctx.vars.preSwitchCheck !== false &&
      preSwitchCheck({
        host: ctx.name,
        root,
        target,
        unit,
        port: checkPort,
        command: ['/usr/bin/node', 'server.js'],
        user: (ctx.vars.appUser as string | undefined) ?? 'app',
        environmentFile: `${root}/shared/app.env`,
        env: { PORT: String(checkPort) },
        timeoutMs: healthTimeoutMs,
      }),
    // out of rotation from here until the drain's handler has seen it UP again
    drain,
    switchRelease({ host: ctx.name, root, target, unit, health: { url: `http://127.0.0.1:${port}/health`, timeoutMs: healthTimeoutMs } }),
    pruneReleases({ root, unit, keep: (ctx.vars.keepReleases as number | undefined) ?? DEFAULT_KEEP_RELEASES }),
  ]
})
