// MariaDB, from Debian's packages: a primary with the application's database
// and accounts, and replicas that follow it with GTID. Written with muster's
// public API only, as a user would write it.
import {
  role,
  roleVar,
  varKinds,
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
} from 'muster'

const CONF = '/etc/mysql/mariadb.conf.d/60-muster-replication.cnf'

/** The address the stack's hosts use to reach `h` (its private address when it has one). */
export function privateAddress(h: HostInfo): string {
  return typeof h.vars.privateAddress === 'string' ? h.vars.privateAddress : h.address
}

/** Where the primary is: the one host of this group. */
export const primaryGroupVar = roleVar.string({ default: 'db_primary', description: 'the inventory group holding the one primary database server' })

/** The database and accounts the app uses, shared with roles/app. */
export const appDbVars = {
  appDbName: roleVar.string({ default: 'app', description: 'the application\'s database' }),
  appDbUser: roleVar.string({ default: 'app', description: 'the application\'s database account' }),
  dbAppPassword: roleVar.secret({ required: true, description: 'password of appDbUser' }),
}

const accountVars = {
  mysqlPrimaryGroup: primaryGroupVar,
  mysqlReplUser: roleVar.string({ default: 'repl', description: 'the replication account' }),
  dbReplPassword: roleVar.secret({ required: true, description: 'password of mysqlReplUser' }),
  mysqlClientHost: roleVar.string({ default: '%', description: 'the host part of the accounts (where they may log in from)' }),
}

/** The primary, as an inventory host: the one host of the primary group (`mysqlPrimaryGroup`, default db_primary). */
export function primaryOf(ctx: Pick<HostContext, 'hostsOf' | 'name'>, group: string): HostInfo {
  const hosts = ctx.hostsOf(group)
  if (hosts.length !== 1) {
    throw new Error(`the primary group ${group} must hold exactly one host, it holds ${hosts.length ? hosts.map((h) => h.name).join(', ') : 'none'} (mysqlPrimaryGroup names the group)`)
  }
  return hosts[0]!
}

export const mysqlServerVars = {
  mysqlPrimaryGroup: primaryGroupVar,
  mysqlServerId: roleVar.integer({ required: true, description: 'server_id, unique among the servers that replicate together (1..4294967295)' }),
  mysqlBindAddress: roleVar.string({ description: 'the address MariaDB listens on (default: the host\'s privateAddress, else its address)' }),
  mysqlBinlogExpireSeconds: roleVar.integer({ default: 7 * 86400, description: 'how long binary logs are kept' }),
  mysqlSettings: roleVar.of(varKinds.record(varKinds.either(varKinds.string, varKinds.number)), { default: {}, description: 'more [mysqld] settings: { name: value }' }),
}

/** MariaDB installed, configured for replication (primary or replica by the primary group), running. */
export const mysqlServer = role('mysql-server', { vars: mysqlServerVars, description: 'MariaDB installed and configured for GTID replication' }, (ctx) => {
  const isPrimary = primaryOf(ctx, ctx.vars.mysqlPrimaryGroup).name === ctx.name
  const restartMariadb = restart('mariadb')
  const vars = {
    host: ctx.name,
    serverId: ctx.vars.mysqlServerId,
    bindAddress: ctx.vars.mysqlBindAddress ?? privateAddress(ctx.host),
    binlogExpireSeconds: ctx.vars.mysqlBinlogExpireSeconds,
    replica: !isPrimary,
    extra: ctx.vars.mysqlSettings as Record<string, string | number>,
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
export const mysqlPrimary = role('mysql-primary', { vars: { ...appDbVars, ...accountVars }, description: 'the app\'s database and account, and the replication account' }, (ctx) => {
  const primary = primaryOf(ctx, ctx.vars.mysqlPrimaryGroup)
  if (primary.name !== ctx.name) throw new Error(`${ctx.name} is not the primary (the group ${ctx.vars.mysqlPrimaryGroup} holds ${primary.name})`)
  const v = ctx.vars
  return [
    mysqlDatabase(v.appDbName, { charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }),
    mysqlUser(v.appDbUser, { host: v.mysqlClientHost, password: v.dbAppPassword, privileges: { [`${v.appDbName}.*`]: 'ALL' }, previousPassword: 'keep' }),
    mysqlUser(v.mysqlReplUser, { host: v.mysqlClientHost, password: v.dbReplPassword, privileges: { '*.*': ['REPLICATION SLAVE'] }, previousPassword: 'keep' }),
  ]
})

/**
 * On the primary, after every host that keeps a copy of a password has the new
 * one (replicas, the app): the old passwords a rotation kept are dropped.
 * Grants are mysqlPrimary's business; this touches only the passwords.
 */
export const mysqlRetirePasswords = role('mysql-retire-passwords', { vars: { ...appDbVars, ...accountVars }, description: 'drops the old passwords a rotation kept, once every copy has the new one' }, (ctx) => {
  const v = ctx.vars
  return [
    mysqlUser(v.appDbUser, { host: v.mysqlClientHost, password: v.dbAppPassword }),
    mysqlUser(v.mysqlReplUser, { host: v.mysqlClientHost, password: v.dbReplPassword }),
  ]
})

/** On a replica: replication from the primary with GTID, seeded from it the first time. Accounts and data arrive with it. */
export const mysqlReplication = role('mysql-replication', { vars: accountVars, description: 'replication from the primary with GTID, seeded from it the first time' }, (ctx) => {
  const primary = primaryOf(ctx, ctx.vars.mysqlPrimaryGroup)
  if (primary.name === ctx.name) throw new Error(`${ctx.name} is the primary: it replicates from nobody`)
  return [
    mysqlReplica({
      primary: { host: primary.name, address: privateAddress(primary), port: 3306 },
      user: ctx.vars.mysqlReplUser,
      password: ctx.vars.dbReplPassword,
    }),
  ]
})

/**
 * All of it in one role, for a play over the primary or the replicas. The
 * reference playbook uses the three parts instead, so every server installs at
 * once and only the accounts and replication wait for the primary.
 */
export const mysql = role('mysql', { vars: { ...mysqlServerVars, ...appDbVars, ...accountVars }, description: 'mysql-server, then mysql-primary or mysql-replication' }, (ctx) => [
  ...mysqlServer.build(ctx),
  ...(primaryOf(ctx, ctx.vars.mysqlPrimaryGroup).name === ctx.name ? mysqlPrimary.build(ctx) : mysqlReplication.build(ctx)),
])
