import { predict } from '../contract/fact.ts'
import { change, ok, resource, type ApplyContext, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { Secret } from '../core/secret.ts'
import { RemoteCommandError } from '../core/errors.ts'
import { createHash } from 'node:crypto'
import { mysqlReplicaPassword, mysqlReplicaState, parseReplicaStatus, type MysqlReplicaInfo, type MysqlReplicaPasswordInfo } from '../facts/mysql.ts'
import { MYSQL_BATCH, runSql, sqlString } from './mysql-sql.ts'

/** Options of `mysqlReplica()`: the primary, the account, and the lag that is drift. */
export interface MysqlReplicaOptions extends ResourceMeta {
  primary: {
    /** The primary's name in the inventory: the seed dump is taken there over muster's own connection. */
    host: string
    /** The address this replica connects to (MASTER_HOST). */
    address: string
    /** Default 3306. */
    port?: number
  }
  /** The replication account on the primary (see mysqlUser with REPLICATION SLAVE). */
  user: string
  password: Secret
  /** Seconds between reconnect attempts when the primary is away (default 5). */
  connectRetry?: number
  /** How long to wait for both replication threads to run after a change (default 60 s). */
  waitMs?: number
  /** MASTER_DELAY: how far behind the primary the replica applies on purpose (default 0). A different delay is drift. */
  delaySeconds?: number
  /**
   * A replica further behind than this (beyond `delaySeconds`) is drift: check
   * reports it, and apply waits (up to `waitMs`) for it to catch up, failing
   * if it does not (default 60 s).
   */
  maxLagSeconds?: number
}

type ReplicaWant = Required<Omit<MysqlReplicaOptions, keyof ResourceMeta | 'primary'>> & {
  primary: { host: string; address: string; port: number }
}

const ADDRESS = /^[A-Za-z0-9_.:-]{1,255}$/

/**
 * This server replicates from `primary` with GTID (MASTER_USE_GTID=slave_pos).
 * A replica that replicates nothing yet is seeded from a consistent dump of
 * the primary (taken there with --single-transaction at one GTID position,
 * loaded here without writing this server's binary log), then starts at that
 * position. Healthy replication is never touched: a rerun re-points only a
 * replica aimed elsewhere, and starts only stopped threads.
 */
export function mysqlReplica(
  opts: MysqlReplicaOptions,
): Resource<{ replica: ReturnType<typeof mysqlReplicaState>; password: ReturnType<typeof mysqlReplicaPassword> }> {
  const id = 'mysql-replica'
  if (!opts.primary || typeof opts.primary.host !== 'string' || opts.primary.host === '') throw new Error(`${id}: primary.host (an inventory host name) is required`)
  if (typeof opts.primary.address !== 'string' || !ADDRESS.test(opts.primary.address)) {
    throw new Error(`${id}: primary.address must be a host name or IP address, got ${JSON.stringify(opts.primary.address)}`)
  }
  if (!(opts.password instanceof Secret)) throw new Error(`${id}: the replication password must be a Secret`)
  if (typeof opts.user !== 'string' || !/^[A-Za-z0-9_.-]{1,80}$/.test(opts.user)) throw new Error(`${id}: not a MySQL user name: ${JSON.stringify(opts.user)}`)
  const want: ReplicaWant = {
    primary: { host: opts.primary.host, address: opts.primary.address, port: opts.primary.port ?? 3306 },
    user: opts.user,
    password: opts.password,
    connectRetry: opts.connectRetry ?? 5,
    waitMs: opts.waitMs ?? 60_000,
    delaySeconds: opts.delaySeconds ?? 0,
    maxLagSeconds: opts.maxLagSeconds ?? 60,
  }
  for (const k of ['delaySeconds', 'maxLagSeconds'] as const) {
    if (!Number.isInteger(want[k]) || want[k] < 0) throw new Error(`${id}: ${k} must be a whole number of seconds, got ${JSON.stringify(opts[k])}`)
  }
  return resource({
    id,
    type: 'mysql-replica',
    probe: { replica: mysqlReplicaState(), password: mysqlReplicaPassword() },
    plan: ({ replica, password }) => planReplica(want, replica, password),
    meta: opts,
  })
}

/** The sha256 the probe prints for the password a replica stores, computed here from the wanted one. */
export function passwordSha256(password: Secret): string {
  return createHash('sha256').update(password.reveal(), 'utf8').digest('hex')
}

export function planReplica(want: ReplicaWant, have: MysqlReplicaInfo, stored: MysqlReplicaPasswordInfo = { server: have.server, sha256: null }): Plan {
  const wantSha = passwordSha256(want.password)
  const { address, port, host } = want.primary
  const target = `${want.user}@${address}:${port}`
  const predicts = [
    predict(mysqlReplicaState(), {
      server: 'up',
      configured: true,
      masterHost: address,
      masterPort: port,
      masterUser: want.user,
      usingGtid: 'Slave_Pos',
      ioRunning: 'Yes',
      sqlRunning: 'Yes',
      secondsBehind: 0,
      lastIoErrno: 0,
      lastIoError: '',
      lastSqlErrno: 0,
      lastSqlError: '',
      sqlDelay: want.delaySeconds,
    } satisfies MysqlReplicaInfo),
    predict(mysqlReplicaPassword(), { server: 'up', sha256: wantSha } satisfies MysqlReplicaPasswordInfo),
  ]
  if (!have.configured) {
    return change(`replicate from ${host} (${target}) with GTID, seeded from a consistent dump of ${host}`, (ctx) => seedAndStart(ctx, want), {
      predicts,
    })
  }
  const current = `${have.masterUser}@${have.masterHost}:${have.masterPort}`
  const gtid = have.usingGtid === undefined || have.usingGtid.toLowerCase() === 'slave_pos'
  if (current !== target || !gtid) {
    const why = current !== target ? `re-point ${current} -> ${target}` : `use GTID slave_pos (was ${have.usingGtid})`
    return change(why, (ctx) => repoint(ctx, want), { predicts })
  }
  if (stored.sha256 !== null && stored.sha256 !== wantSha) {
    // a rotated password: the primary accepts both the old and the new one meanwhile (mysqlUser
    // previousPassword: 'keep'), so the stop-set-start below is the only pause, and a short one
    return change(`replication password differs from the one stored (master.info): set the new one`, (ctx) => repoint(ctx, want), { predicts })
  }
  if (have.sqlRunning !== 'Yes' && (have.lastSqlErrno ?? 0) !== 0) {
    // restarting would fail the same way, or skip a transaction: that is a person's decision
    throw new Error(
      `replication SQL thread stopped by error ${have.lastSqlErrno}: ${have.lastSqlError}; ` +
        'fix the data on this replica (or re-seed it: RESET SLAVE ALL, then rerun) by hand',
    )
  }
  if (have.ioRunning === 'Connecting' && ACCESS_DENIED.has(have.lastIoErrno ?? 0)) {
    return change(`credentials refused by ${host} (error ${have.lastIoErrno}): set them again`, (ctx) => repoint(ctx, want), { predicts })
  }
  if (have.sqlDelay !== undefined && have.sqlDelay !== want.delaySeconds) {
    // CHANGE MASTER keeps every option it is not given: the delay must be set again explicitly
    return change(`delay ${have.sqlDelay}s -> ${want.delaySeconds}s`, (ctx) => repoint(ctx, want), { predicts })
  }
  if (have.ioRunning === 'No' || have.sqlRunning === 'No') {
    return change(`start replication (IO thread ${have.ioRunning}, SQL thread ${have.sqlRunning})`, (ctx) => startThreads(ctx, want), { predicts })
  }
  const allowed = want.maxLagSeconds + want.delaySeconds
  if (typeof have.secondsBehind === 'number' && have.secondsBehind > allowed) {
    // nothing to set: the replica is healthy but behind; apply waits, so that what follows sees caught-up data
    return change(`${have.secondsBehind}s behind ${host} (at most ${allowed}s): wait for it to catch up`, (ctx) => waitReplicating(ctx, want, { catchUp: true }), { predicts })
  }
  const lag = have.secondsBehind === null || have.secondsBehind === undefined ? 'lag unknown' : `${have.secondsBehind}s behind`
  return ok(`replicating from ${target}, IO ${have.ioRunning}, SQL ${have.sqlRunning}, ${lag}`)
}

// 1045 access denied; 1698 access denied (plugin); 1044 no access to this database
const ACCESS_DENIED = new Set([1044, 1045, 1698])

function changeMasterSql(want: ReplicaWant): string {
  const { address, port } = want.primary
  return (
    `CHANGE MASTER TO MASTER_HOST=${sqlString(address)}, MASTER_PORT=${port}, ` +
    `MASTER_USER=${sqlString(want.user)}, MASTER_PASSWORD=${sqlString(want.password.reveal())}, ` +
    `MASTER_CONNECT_RETRY=${want.connectRetry}, MASTER_DELAY=${want.delaySeconds}, MASTER_USE_GTID=slave_pos;`
  )
}

/** mysqldump under either name. */
const DUMP_CLIENT = '"$(command -v mariadb-dump || command -v mysqldump)"'

/**
 * One transaction's view of every database (--single-transaction), with the
 * GTID position it corresponds to written as a comment (--gtid --master-data=2).
 * The replica's own GTID state table stays out of it.
 */
export const DUMP_COMMAND =
  `${DUMP_CLIENT} --all-databases --single-transaction --gtid --master-data=2 --routines --events --triggers ` +
  '--hex-blob --default-character-set=utf8mb4 --ignore-table=mysql.gtid_slave_pos'

/**
 * The GTID position a `--gtid --master-data=2` dump was taken at, from its
 * commented `SET GLOBAL gtid_slave_pos` line (newer dumps print it after the
 * `mysql` schema's data, so the whole dump is searched; the last one counts).
 */
export function gtidOfDump(dump: string): string {
  let pos: string | undefined
  for (const m of dump.matchAll(/^(?:-- )?SET GLOBAL gtid_slave_pos\s*=\s*'([0-9,-]*)';/gm)) pos = m[1]
  if (pos === undefined) throw new Error('the dump names no GTID position (is the binary log on, on the primary?)')
  return pos
}

async function seedAndStart(ctx: ApplyContext, want: ReplicaWant): Promise<void> {
  const primary = await ctx.connectTo(want.primary.host)
  ctx.log(`dumping ${want.primary.host} (consistent snapshot)`)
  const dump = await primary.exec(DUMP_COMMAND, { timeoutMs: 30 * 60_000 })
  if (dump.code !== 0) throw new RemoteCommandError(want.primary.host, DUMP_COMMAND, dump.code, '', dump.stderr, 'mysql-replica')
  const gtid = gtidOfDump(dump.stdout)
  ctx.log(`loading the dump (${Math.round(dump.stdout.length / 1024)} KiB, GTID ${gtid || 'empty'}) and starting replication`)
  const sql = [
    'STOP SLAVE;',
    'RESET SLAVE ALL;',
    // the seed is the primary's history, not this server's own: keep it out of this binary log
    'SET SESSION sql_log_bin = 0;',
    dump.stdout,
    'FLUSH PRIVILEGES;',
    `SET GLOBAL gtid_slave_pos = ${sqlString(gtid)};`,
    changeMasterSql(want),
    'START SLAVE;',
    '',
  ].join('\n')
  await runSql(ctx, sql, 30 * 60_000)
  await waitReplicating(ctx, want)
}

async function repoint(ctx: ApplyContext, want: ReplicaWant): Promise<void> {
  await runSql(ctx, ['STOP SLAVE;', changeMasterSql(want), 'START SLAVE;', ''].join('\n'))
  await waitReplicating(ctx, want)
}

async function startThreads(ctx: ApplyContext, want: ReplicaWant): Promise<void> {
  await runSql(ctx, 'START SLAVE;\n')
  await waitReplicating(ctx, want)
}

/**
 * Both threads running (and with `catchUp`, no further behind than allowed), or
 * the error that stops them. A replica just started may be far behind: that is
 * for the next check to report, not a reason to fail the start.
 */
async function waitReplicating(ctx: ApplyContext, want: ReplicaWant, opts: { catchUp?: boolean } = {}): Promise<void> {
  const deadline = Date.now() + want.waitMs
  let last: MysqlReplicaInfo | undefined
  for (;;) {
    const res = await ctx.run(MYSQL_BATCH, { stdin: 'SHOW SLAVE STATUS;\n' })
    last = parseReplicaStatus(res.stdout.split('\n').filter((l) => l !== ''))
    const behind = last.secondsBehind
    const caughtUp = !opts.catchUp || typeof behind !== 'number' || behind <= want.maxLagSeconds + want.delaySeconds
    if (last.ioRunning === 'Yes' && last.sqlRunning === 'Yes' && caughtUp) return
    if (last.sqlRunning === 'No' && (last.lastSqlErrno ?? 0) !== 0) {
      throw new Error(`replication SQL thread stopped: error ${last.lastSqlErrno}: ${last.lastSqlError}`)
    }
    if (Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, 250))
  }
  if (opts.catchUp && last?.ioRunning === 'Yes' && last.sqlRunning === 'Yes') {
    throw new Error(`replication from ${want.primary.address} is still ${last.secondsBehind}s behind after ${want.waitMs} ms (at most ${want.maxLagSeconds + want.delaySeconds}s)`)
  }
  throw new Error(
    `replication from ${want.primary.address} did not start within ${want.waitMs} ms: IO thread ${last?.ioRunning}, SQL thread ${last?.sqlRunning}` +
      (last?.lastIoErrno ? `; IO error ${last.lastIoErrno}: ${last.lastIoError}` : ''),
  )
}
