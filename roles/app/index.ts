// The sample app (examples/app): built once on the controller into a release,
// uploaded once per host, run by systemd as an unprivileged user.
import {
  role,
  roleVar,
  apt,
  user,
  directory,
  template,
  service,
  buildRelease,
  releaseUpload,
  currentRelease,
  releasePaths,
  systemdUnitFile,
  liveRelease,
  unitEnvironment,
  type HostContext,
} from 'muster'
import { restartInRotation, sharedLinks, untilDeployed } from 'muster/deploy'
import { failoverVars } from '../haproxy/failover.ts'
import { appDbVars, primaryGroupVar, primaryOf, privateAddress } from '../mysql/index.ts'

/** Paths of a release that outlive it, linked to `<appRoot>/shared/`. */
export const SHARED_LINKS = { 'public/uploads': 'uploads' } as const

/**
 * systemd reads the environment file and unit at start: reload its view first,
 * then restart. Behind the balancer the web hosts take turns, each out of
 * rotation meanwhile (restartInRotation), so a rotated password or a new unit
 * takes effect without a failed request; before the balancer exists, a plain restart.
 */
function restartApp(ctx: HostContext, port: number, lbGroup: string) {
  return restartInRotation({
    name: 'restart app',
    host: ctx.name,
    unit: 'app.service',
    lb: ctx.hostsOf(lbGroup).map((h) => h.name),
    backend: 'web',
    healthUrl: `http://127.0.0.1:${port}/health`,
  })
}

/** Quote a value for a systemd EnvironmentFile: double quotes, with \ " ` $ escaped. */
function envQuote(v: unknown): string {
  const s = String(v)
  if (/[\n\r]/.test(s)) throw new Error('an environment file value cannot span lines')
  return /^[A-Za-z0-9_./:@%+=,-]*$/.test(s) ? s : `"${s.replace(/[\\"`$]/g, '\\$&')}"`
}

/** Where the app lives and how it runs: shared with nginx and the deploy roles. */
export const appVars = {
  appRoot: roleVar.string({ default: '/srv/app', description: 'where releases live (<appRoot>/releases, current, shared)' }),
  appPort: roleVar.integer({ default: 3000, description: 'the port the app listens on, on 127.0.0.1' }),
  appUser: roleVar.string({ default: 'app', description: 'the unprivileged system user the app runs as' }),
  appSource: roleVar.string({ description: 'the app\'s source directory on the controller (default: examples/app of this repository)' }),
}

export const app = role('app', { vars: { ...appVars, ...appDbVars, mysqlPrimaryGroup: primaryGroupVar, lbGroup: failoverVars.lbGroup }, description: 'the sample app: its first release, its environment, its systemd unit' }, (ctx) => {
  const { appRoot: root, appUser } = ctx.vars
  const paths = releasePaths(root)
  // the same source gives the same release (id and tarball) on every host of the run
  const release = buildRelease({ source: ctx.vars.appSource ?? new URL('../../examples/app/', import.meta.url) })
  const primary = primaryOf(ctx, ctx.vars.mysqlPrimaryGroup)
  const port = ctx.vars.appPort
  const restart = restartApp(ctx, port, ctx.vars.lbGroup)
  // what app.env says, and what the running app must have been started with
  const env = {
    PORT: port,
    BIND: '127.0.0.1',
    DB_NAME: ctx.vars.appDbName,
    DB_USER: ctx.vars.appDbUser,
    DB_PASSWORD: ctx.vars.dbAppPassword,
    DB_PRIMARY_HOST: privateAddress(primary),
    DB_PRIMARY_PORT: 3306,
    DB_LOCAL_SOCKET: '/run/mysqld/mysqld.sock',
  }

  return [
    // curl: the deploy's health checks ask the app on the host itself
    apt(['nodejs', 'curl']),
    user(appUser, { system: true, home: root, shell: '/usr/sbin/nologin' }),
    directory(root, { mode: '0755', owner: 'root', group: 'root' }),
    directory(paths.releases, { mode: '0755', owner: 'root', group: 'root' }),
    // 0755: Nginx serves shared/uploads through the release's public/uploads link; app.env in it stays 0600
    directory(paths.shared, { mode: '0755', owner: appUser, group: appUser }),
    directory(`${paths.shared}/uploads`, { mode: '0755', owner: appUser, group: appUser }),
    template(`${paths.shared}/app.env`, {
      source: new URL('./templates/app.env.ejs', import.meta.url),
      vars: { host: ctx.name, q: envQuote, env },
      mode: '0600',
      owner: appUser,
      group: appUser,
      notify: restart,
    }),
    // the first release only: once `current` exists, `muster deploy` owns it (playbooks/deploy.ts)
    untilDeployed(root, releaseUpload(release, { root })),
    untilDeployed(root, sharedLinks(release, { root, links: SHARED_LINKS })),
    untilDeployed(root, currentRelease(release, { root, notify: restart })),
    // from then on: `current` names the release app.service runs (a link changed by hand is drift)
    liveRelease({ root, unit: 'app.service' }),
    // written, then daemon-reload; on a bare host check mode knows the unit it makes
    systemdUnitFile('app.service', {
      source: new URL('./templates/app.service.ejs', import.meta.url),
      vars: { host: ctx.name, root, user: appUser },
      notify: restart,
    }),
    service('app', { running: true, enabled: true }),
    // the running process, not only the file: a file changed without a restart is drift
    unitEnvironment('app.service', env, { restart, file: 'app.env' }),
  ]
})
