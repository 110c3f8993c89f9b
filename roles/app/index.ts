// The sample app (examples/app): built once on the controller into a release,
// uploaded once per host, run by systemd as an unprivileged user.
import {
  role,
  apt,
  user,
  directory,
  template,
  service,
  handler,
  buildRelease,
  releaseUpload,
  currentRelease,
  releasePaths,
  resource,
  predict,
  systemdUnit,
  type Resource,
  type Secret,
  type UnitState,
} from 'muster'
import { primaryOf, privateAddress } from '../mysql/index.ts'

/** systemd reads the environment file and unit at start: reload its view first, then restart. */
export const restartApp = handler('restart app', 'systemctl daemon-reload && systemctl restart app.service')

/**
 * A unit file, as `file`/`template` writes it, that also tells check mode what
 * systemd will make of it: a new unit file means a known (stopped, disabled)
 * unit, so the service resource after it plans "would enable and start"
 * instead of failing on a unit the bare host does not know yet.
 */
function unitFile(unit: string, file: Resource): Resource {
  const q = systemdUnit(unit)
  return resource({
    id: file.id,
    type: file.type,
    probe: { ...file.probe, unit: q },
    plan(observed) {
      const { unit: u, ...own } = observed as Record<string, unknown> & { unit: UnitState }
      const plan = file.plan(own as never)
      if (plan.kind !== 'change') return plan
      const after: UnitState = u.loadState === 'not-found' ? { ...u, loadState: 'loaded', activeState: 'inactive', subState: 'dead', unitFileState: 'disabled' } : u
      return { ...plan, predicts: [...(plan.predicts ?? []), predict(q, after)] }
    },
    meta: { notify: file.notify, tags: file.tags },
  })
}

/** Quote a value for a systemd EnvironmentFile: double quotes, with \ " ` $ escaped. */
function envQuote(v: unknown): string {
  const s = String(v)
  if (/[\n\r]/.test(s)) throw new Error('an environment file value cannot span lines')
  return /^[A-Za-z0-9_./:@%+=,-]*$/.test(s) ? s : `"${s.replace(/[\\"`$]/g, '\\$&')}"`
}

export const app = role('app', (ctx) => {
  const root = (ctx.vars.appRoot as string | undefined) ?? '/srv/app'
  const appUser = (ctx.vars.appUser as string | undefined) ?? 'app'
  const paths = releasePaths(root)
  // the same source gives the same release (id and tarball) on every host of the run
  const release = buildRelease({ source: (ctx.vars.appSource as string | undefined) ?? new URL('../../examples/app/', import.meta.url) })
  const primary = primaryOf(ctx)

  return [
    apt('nodejs'),
    user(appUser, { system: true, home: root, shell: '/usr/sbin/nologin' }),
    directory(root, { mode: '0755', owner: 'root', group: 'root' }),
    directory(paths.releases, { mode: '0755', owner: 'root', group: 'root' }),
    directory(paths.shared, { mode: '0750', owner: appUser, group: appUser }),
    template(`${paths.shared}/app.env`, {
      source: new URL('./templates/app.env.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        q: envQuote,
        port: (ctx.vars.appPort as number | undefined) ?? 3000,
        dbName: (ctx.vars.appDbName as string | undefined) ?? 'app',
        dbUser: (ctx.vars.appDbUser as string | undefined) ?? 'app',
        dbPassword: ctx.need<Secret>('dbAppPassword'),
        dbPrimaryHost: privateAddress(primary),
        dbPrimaryPort: 3306,
      },
      mode: '0600',
      owner: appUser,
      group: appUser,
      notify: restartApp,
    }),
    releaseUpload(release, { root }),
    currentRelease(release, { root, notify: restartApp }),
    unitFile(
      'app.service',
      template('/etc/systemd/system/app.service', {
        source: new URL('./templates/app.service.ejs', import.meta.url),
        vars: { host: ctx.name, root, user: appUser },
        mode: '0644',
        notify: restartApp,
      }),
    ),
    service('app', { running: true, enabled: true }),
  ]
})
