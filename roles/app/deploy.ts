// Rolling deploys of the sample app (playbooks/deploy.ts), from muster's
// public building blocks. Per host, while it still serves: upload the release,
// link shared/, start it on a side port and ask its /health. Only then out of
// HAProxy (drain, sessions to 0), switch `current`, restart, /health (rolled
// back when it fails), prune, and back into rotation once HAProxy sees it UP.
import { role, roleVar, buildRelease, releaseUpload } from 'muster'
import {
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
} from 'muster/deploy'
import { appVars, SHARED_LINKS } from './index.ts'

export { SHARED_LINKS }

const seconds = (name: string, v: number): number => {
  if (!(v > 0)) throw new Error(`${name} must be a positive number of seconds, got ${JSON.stringify(v)}`)
  return v * 1000
}

/** Where releases live and which unit runs them (`muster releases` reads the same two). */
const placeVars = {
  appRoot: appVars.appRoot,
  appUnit: roleVar.string({ default: 'app.service', description: 'the systemd unit that runs the current release' }),
}

export const takeDeployLock = role('deploy lock', {
  vars: { ...placeVars, forceUnlock: roleVar.boolean({ default: false, description: 'take the lock from a live holder (muster deploy --force-unlock)' }) },
}, (ctx) => {
  const { root } = deploySettings(ctx.vars)
  return [deployLock({ host: ctx.name, root, force: ctx.vars.forceUnlock })]
})

export const releaseDeployLock = role('deploy unlock', { vars: placeVars }, (ctx) => {
  const { root } = deploySettings(ctx.vars)
  return [deployUnlock({ host: ctx.name, root })]
})

export const deployVars = {
  ...placeVars,
  appPort: appVars.appPort,
  appUser: appVars.appUser,
  appSource: appVars.appSource,
  appCheckPort: roleVar.integer({ description: 'where the pre-switch check starts the new release (default appPort + 1)' }),
  release: roleVar.string({ description: 'what to deploy: a directory or a git ref (muster deploy --release); default appSource as it is' }),
  rollback: roleVar.boolean({ default: false, description: 'deploy each host\'s previous release (what muster rollback sets)' }),
  healthTimeout: roleVar.number({ default: 30, description: 'seconds a release has to answer /health' }),
  drainTimeout: roleVar.number({ default: 30, description: 'seconds to wait for a drained server\'s sessions to end' }),
  preSwitchCheck: roleVar.boolean({ default: true, description: 'start the new release beside the live one and ask its /health before switching' }),
  keepReleases: roleVar.integer({ default: DEFAULT_KEEP_RELEASES, description: 'releases kept per host (never the current or previous one)' }),
  lbGroup: roleVar.string({ default: 'lb', description: 'the balancers (a group or pattern) a host is drained on' }),
  haproxyBackend: roleVar.string({ default: 'web', description: 'the HAProxy backend the web hosts are servers of' }),
}

export const appDeploy = role('deploy', { vars: deployVars, description: 'one host\'s rolling deploy: upload, check, drain, switch, prune' }, (ctx) => {
  const { root, unit } = deploySettings(ctx.vars)
  // `rollback` (muster rollback): each host's own previous release; else `release`, by default the app as it is
  const app = ctx.vars.appSource ?? new URL('../../examples/app/', import.meta.url)
  const target: DeployTarget = ctx.vars.rollback ? previousRelease() : buildRelease({ source: releaseSource(ctx.vars.release, { app }) })
  const port = ctx.vars.appPort
  const checkPort = ctx.vars.appCheckPort ?? port + 1
  const healthTimeoutMs = seconds('healthTimeout', ctx.vars.healthTimeout)
  const balancers = ctx.hostsOf(ctx.vars.lbGroup).map((h) => h.name)
  if (balancers.length === 0) throw new Error(`no load balancer: the inventory group or pattern ${ctx.vars.lbGroup} (lbGroup) is empty`)
  const { drain } = drainServer({
    host: ctx.name,
    lb: balancers,
    backend: ctx.vars.haproxyBackend,
    deploy: { root, target, unit },
    drainTimeoutMs: seconds('drainTimeout', ctx.vars.drainTimeout),
  })
  const fresh = !(target instanceof PreviousRelease)
  return [
    // while the host still serves: nothing here touches what is live
    fresh && releaseUpload(target, { root }),
    fresh && sharedLinks(target, { root, links: SHARED_LINKS }),
    ctx.vars.preSwitchCheck &&
      preSwitchCheck({
        host: ctx.name,
        root,
        target,
        unit,
        port: checkPort,
        command: ['/usr/bin/node', 'server.js'],
        user: ctx.vars.appUser,
        environmentFile: `${root}/shared/app.env`,
        env: { PORT: String(checkPort) },
        timeoutMs: healthTimeoutMs,
      }),
    // out of rotation from here until the drain's handler has seen it UP again
    drain,
    switchRelease({ host: ctx.name, root, target, unit, health: { url: `http://127.0.0.1:${port}/health`, timeoutMs: healthTimeoutMs } }),
    pruneReleases({ root, unit, keep: ctx.vars.keepReleases }),
  ]
})
