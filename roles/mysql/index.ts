// MariaDB, from Debian's packages: a primary with the application's database
// and accounts, and replicas that follow it with GTID. Written with muster's
// public API only, as a user would write it.
import {
  role,
  apt,
  directory,
  template,
  service,
  restart,
  mysqlDatabase,
  mysqlUser,
  mysqlReplica,
  mysqlGlobals,
  type HostContext,
  type HostInfo,
  type Secret,
} from 'muster'

const CONF = '/etc/mysql/mariadb.conf.d/60-muster-replication.cnf'

/** The address the stack's hosts use to reach `h` (its private address when it has one). */
export function privateAddress(h: HostInfo): string {
  return (h.vars.privateAddress as string | undefined) ?? h.address
}

/** The primary named by `mysqlPrimary`, as an inventory host. */
export function primaryOf(ctx: HostContext): HostInfo {
  const name = ctx.need<string>('mysqlPrimary')
  const h = ctx.inventory.hosts.get(name)
  if (!h) throw new Error(`mysqlPrimary is ${JSON.stringify(name)}, which is not a host of the inventory`)
  return h
}

function settings(ctx: HostContext) {
  return {
    appDb: (ctx.vars.appDbName as string | undefined) ?? 'app',
    appUser: (ctx.vars.appDbUser as string | undefined) ?? 'app',
    replUser: (ctx.vars.mysqlReplUser as string | undefined) ?? 'repl',
    clientHost: (ctx.vars.mysqlClientHost as string | undefined) ?? '%',
  }
}

/** MariaDB installed, configured for replication (primary or replica by `mysqlPrimary`), running. */
export const mysqlServer = role('mysql-server', (ctx) => {
  const isPrimary = primaryOf(ctx).name === ctx.name
  const restartMariadb = restart('mariadb')
  const vars = {
    host: ctx.name,
    serverId: ctx.need<number>('mysqlServerId'),
    bindAddress: (ctx.vars.mysqlBindAddress as string | undefined) ?? privateAddress(ctx.host),
    binlogExpireSeconds: (ctx.vars.mysqlBinlogExpireSeconds as number | undefined) ?? 7 * 86400,
    replica: !isPrimary,
    extra: (ctx.vars.mysqlSettings as Record<string, string | number> | undefined) ?? {},
  }
  return [
    // the settings go in before the package: its first start already has the
    // binary log and the right server_id, so there is no restart to wait for
    directory('/etc/mysql/mariadb.conf.d', { mode: '0755' }),
    template(CONF, { source: new URL('./templates/replication.cnf.ejs', import.meta.url), vars, mode: '0644', notify: restartMariadb }),
    apt(['mariadb-server', 'mariadb-client']),
    service('mariadb', { running: true, enabled: true }),
    // what the running server does, against what the file says: SET GLOBAL for what it allows, a restart for the rest
    mysqlGlobals({ settings: liveSettings(vars), restart: restartMariadb, file: CONF.slice(CONF.lastIndexOf('/') + 1) }),
  ]
})

/** The file's settings as the running server reports them (SHOW GLOBAL VARIABLES): log_bin is ON, not the log's name. */
function liveSettings(v: { serverId: number; bindAddress: string; binlogExpireSeconds: number; replica: boolean; extra: Record<string, string | number> }) {
  return {
    server_id: v.serverId,
    bind_address: v.bindAddress,
    log_bin: 'ON',
    relay_log: 'mariadb-relay-bin',
    binlog_format: 'ROW',
    log_slave_updates: 'ON',
    binlog_expire_logs_seconds: v.binlogExpireSeconds,
    gtid_domain_id: 0,
    skip_name_resolve: 'ON',
    read_only: v.replica ? 'ON' : 'OFF',
    ...(v.replica ? { relay_log_recovery: 'ON' } : {}),
    ...v.extra,
  }
}

/**
 * On the primary: the application's database and account, and the replication account.
 * A changed password is added beside the old one (both log in), so the copies
 * other hosts keep (a replica's stored credentials, the app's env file) can
 * switch in the plays that follow without being refused; mysqlRetirePasswords,
 * the playbook's last play, then drops the old one.
 */
export const mysqlPrimary = role('mysql-primary', (ctx) => {
  if (primaryOf(ctx).name !== ctx.name) throw new Error(`${ctx.name} is not the primary (mysqlPrimary is ${primaryOf(ctx).name})`)
  const s = settings(ctx)
  return [
    mysqlDatabase(s.appDb, { charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }),
    mysqlUser(s.appUser, { host: s.clientHost, password: ctx.need<Secret>('dbAppPassword'), privileges: { [`${s.appDb}.*`]: 'ALL' }, previousPassword: 'keep' }),
    mysqlUser(s.replUser, { host: s.clientHost, password: ctx.need<Secret>('dbReplPassword'), privileges: { '*.*': ['REPLICATION SLAVE'] }, previousPassword: 'keep' }),
  ]
})

/**
 * On the primary, after every host that keeps a copy of a password has the new
 * one (replicas, the app): the old passwords a rotation kept are dropped.
 * Grants are mysqlPrimary's business; this touches only the passwords.
 */
export const mysqlRetirePasswords = role('mysql-retire-passwords', (ctx) => {
  const s = settings(ctx)
  return [
    mysqlUser(s.appUser, { host: s.clientHost, password: ctx.need<Secret>('dbAppPassword') }),
    mysqlUser(s.replUser, { host: s.clientHost, password: ctx.need<Secret>('dbReplPassword') }),
  ]
})

/** On a replica: replication from the primary with GTID, seeded from it the first time. Accounts and data arrive with it. */
export const mysqlReplication = role('mysql-replication', (ctx) => {
  const primary = primaryOf(ctx)
  if (primary.name === ctx.name) throw new Error(`${ctx.name} is the primary: it replicates from nobody`)
  return [
    mysqlReplica({
      primary: { host: primary.name, address: privateAddress(primary), port: 3306 },
      user: settings(ctx).replUser,
      password: ctx.need<Secret>('dbReplPassword'),
    }),
  ]
})

/**
 * All of it in one role, for a play over the primary or the replicas. The
 * reference playbook uses the three parts instead, so every server installs at
 * once and only the accounts and replication wait for the primary.
 */
export const mysql = role('mysql', (ctx) => [
  ...mysqlServer.build(ctx),
  ...(primaryOf(ctx).name === ctx.name ? mysqlPrimary.build(ctx) : mysqlReplication.build(ctx)),
])
