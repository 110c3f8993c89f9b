import { createHash } from 'node:crypto'
import { predict } from '../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { Secret } from '../core/secret.ts'
import {
  assertDatabaseName,
  assertUserName,
  mysqlDatabaseState,
  mysqlUserState,
  normalizePrivileges,
  type MysqlDatabaseInfo,
  type MysqlUserInfo,
} from '../facts/mysql.ts'
import { runSql, sqlIdent, sqlString } from './mysql-sql.ts'

/**
 * Databases and users of a MySQL/MariaDB server, managed as root through the
 * unix socket. SQL always travels on the client's stdin, never in argv; a
 * password never travels at all: the server is given its mysql_native_password
 * hash, and the probe compares that hash with the stored one.
 */

/**
 * mysql_native_password's stored form: '*' + upper-case hex of SHA1(SHA1(password)).
 * It is computed on the controller and kept a Secret (it is as good as the
 * password for logging in with that plugin), so reporters mask it too.
 */
export function mysqlNativeHash(password: Secret | string): Secret {
  const pw = password instanceof Secret ? password.reveal() : password
  const inner = createHash('sha1').update(pw, 'utf8').digest()
  return new Secret(`*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`)
}

// ---------------------------------------------------------------- databases

/** Options of `mysqlDatabase()`: character set, collation, present or absent. */
export interface MysqlDatabaseOptions extends ResourceMeta {
  /** Default utf8mb4. */
  charset?: string
  /** Default: the server's default collation for the charset. */
  collation?: string
  state?: 'present' | 'absent'
}

const CHARSET = /^[A-Za-z0-9_]{1,64}$/

/** A database with the character set asked for; `state: 'absent'` drops it. */
export function mysqlDatabase(name: string, opts: MysqlDatabaseOptions = {}): Resource<{ db: ReturnType<typeof mysqlDatabaseState> }> {
  assertDatabaseName(name)
  const charset = opts.charset ?? 'utf8mb4'
  for (const [what, v] of [['charset', charset], ['collation', opts.collation]] as const) {
    if (v !== undefined && !CHARSET.test(v)) throw new Error(`mysql-database:${name}: ${what} ${JSON.stringify(v)} is not a character set or collation name`)
  }
  return resource({
    id: `mysql-database:${name}`,
    type: 'mysql-database',
    probe: { db: mysqlDatabaseState(name) },
    plan: ({ db }) => planDatabase(name, { charset, collation: opts.collation, state: opts.state ?? 'present' }, db),
    meta: opts,
  })
}

export function planDatabase(
  name: string,
  want: { charset: string; collation: string | undefined; state: 'present' | 'absent' },
  have: MysqlDatabaseInfo,
): Plan {
  const q = mysqlDatabaseState(name)
  if (want.state === 'absent') {
    if (!have.exists) return ok()
    return change('drop database', (ctx) => runSql(ctx, `DROP DATABASE IF EXISTS ${sqlIdent(name)};\n`).then(() => {}), {
      predicts: [predict(q, { server: 'up', exists: false })],
    })
  }
  const spec = `CHARACTER SET ${want.charset}${want.collation ? ` COLLATE ${want.collation}` : ''}`
  const after: MysqlDatabaseInfo = {
    server: 'up',
    exists: true,
    charset: want.charset,
    // without a collation asked for, the server picks the charset's default: not predictable from here
    ...(want.collation ? { collation: want.collation } : have.exists && have.charset === want.charset && have.collation ? { collation: have.collation } : {}),
  }
  const predicts = [predict(q, after)]
  if (!have.exists) {
    return change(`create database (${want.charset})`, (ctx) => runSql(ctx, `CREATE DATABASE IF NOT EXISTS ${sqlIdent(name)} ${spec};\n`).then(() => {}), {
      predicts,
    })
  }
  const drift: string[] = []
  if (have.charset !== want.charset) drift.push(`charset ${have.charset} -> ${want.charset}`)
  if (want.collation && have.collation !== want.collation) drift.push(`collation ${have.collation} -> ${want.collation}`)
  if (drift.length === 0) return ok(`${have.charset}/${have.collation}`)
  return change(drift.join(', '), (ctx) => runSql(ctx, `ALTER DATABASE ${sqlIdent(name)} ${spec};\n`).then(() => {}), { predicts })
}

// ---------------------------------------------------------------- users

/** Privileges per object: `{ 'appdb.*': 'ALL', '*.*': ['REPLICATION SLAVE'] }`. */
export type MysqlPrivileges = Record<string, 'ALL' | readonly string[]>

/** Options of `mysqlUser()`: the host part, the password (a Secret), the privileges. */
export interface MysqlUserOptions extends ResourceMeta {
  /** The host part of the account (default '%'). */
  host?: string
  /** Required when present. Only its hash reaches the server. */
  password?: Secret
  /** Exactly these privileges (others on these or other objects are revoked). Omit to leave grants alone. */
  privileges?: MysqlPrivileges
  state?: 'present' | 'absent'
  /**
   * What becomes of the old password when `password` changes. 'drop'
   * (default): the account takes the new one alone. 'keep': the account
   * accepts both (the new first) until a later `mysqlUser` with 'drop' retires
   * the old: the first step of a rotation in which every copy of the password
   * (a replica's stored credentials, an app's env file) is switched in
   * between, so nothing that still holds the old one is refused meanwhile.
   */
  previousPassword?: 'keep' | 'drop'
}

const OBJECT = /^(\*|[A-Za-z0-9_]{1,64})\.(\*|[A-Za-z0-9_]{1,64})$/
const PRIVILEGE = /^[A-Z][A-Z ]*[A-Z]$/

/** `appdb.*` -> `` `appdb`.* `` */
function sqlObject(object: string): string {
  const m = OBJECT.exec(object)
  if (!m) throw new Error(`not a grant object: ${JSON.stringify(object)} (db.*, db.table or *.*)`)
  const part = (p: string): string => (p === '*' ? '*' : sqlIdent(p))
  return `${part(m[1]!)}.${part(m[2]!)}`
}

export function normalizeGrants(privileges: MysqlPrivileges, id: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [object, privs] of Object.entries(privileges)) {
    if (!OBJECT.test(object)) throw new Error(`${id}: not a grant object: ${JSON.stringify(object)} (db.*, db.table or *.*)`)
    const list = normalizePrivileges(privs === 'ALL' ? ['ALL PRIVILEGES'] : privs)
    for (const p of list) if (!PRIVILEGE.test(p)) throw new Error(`${id}: not a privilege: ${JSON.stringify(p)}`)
    if (list.length > 0) out[object] = list
  }
  return out
}

/** An account `name@host` with a password (compared by hash) and, if given, exactly these privileges. */
export function mysqlUser(name: string, opts: MysqlUserOptions): Resource<{ user: ReturnType<typeof mysqlUserState> }> {
  const host = opts.host ?? '%'
  assertUserName(name, host)
  const id = `mysql-user:${name}@${host}`
  const state = opts.state ?? 'present'
  if (state === 'present' && !(opts.password instanceof Secret)) {
    throw new Error(`${id}: a password is required, as a Secret (secret(process.env.X) or the inventory's vault)`)
  }
  const want: UserWant = {
    name,
    host,
    state,
    previousPassword: opts.previousPassword ?? 'drop',
    ...(opts.password ? { hash: mysqlNativeHash(opts.password) } : {}),
    ...(opts.privileges ? { grants: normalizeGrants(opts.privileges, id) } : {}),
  }
  return resource({ id, type: 'mysql-user', probe: { user: mysqlUserState(name, host) }, plan: ({ user }) => planUser(want, user), meta: opts })
}

export interface UserWant {
  name: string
  host: string
  state: 'present' | 'absent'
  hash?: Secret
  /** Keep the old password beside a new one (a rotation's first step), or accept the new one alone. Default 'drop'. */
  previousPassword?: 'keep' | 'drop'
  /** undefined: grants are not managed. */
  grants?: Record<string, string[]>
}

export function planUser(want: UserWant, have: MysqlUserInfo): Plan {
  const account = `${sqlString(want.name)}@${sqlString(want.host)}`
  const q = mysqlUserState(want.name, want.host)
  if (want.state === 'absent') {
    if (!have.exists) return ok()
    return change('drop user', (ctx) => runSql(ctx, `DROP USER IF EXISTS ${account};\n`).then(() => {}), {
      predicts: [predict(q, { server: 'up', exists: false, grants: {} })],
    })
  }
  const hash = want.hash!.reveal()
  const haveGrants = have.exists ? have.grants : {}
  const wantGrants = want.grants ?? haveGrants
  const sql: string[] = []
  const summary: string[] = []
  const native = have.plugin === 'mysql_native_password'
  let previous = have.previousAuthString
  if (!have.exists) {
    summary.push('create')
    sql.push(`CREATE USER ${account} IDENTIFIED BY PASSWORD ${sqlString(hash)};`)
    previous = undefined
  } else if (want.previousPassword === 'keep' && native && have.authString !== hash) {
    // add-new-then-switch: both passwords log in until every copy has the new one
    summary.push('password: the new one, with the previous one still accepted until it is retired')
    sql.push(`ALTER USER ${account} IDENTIFIED VIA mysql_native_password USING ${sqlString(hash)} OR mysql_native_password USING ${sqlString(have.authString ?? '')};`)
    previous = have.authString
  } else if (!native || have.authString !== hash) {
    summary.push(native ? 'password' : `auth ${have.plugin || 'none'} -> mysql_native_password`)
    sql.push(`ALTER USER ${account} IDENTIFIED BY PASSWORD ${sqlString(hash)};`)
    previous = undefined
  } else if (want.previousPassword !== 'keep' && previous !== undefined) {
    summary.push('retire the previous password (every copy has the new one)')
    sql.push(`ALTER USER ${account} IDENTIFIED BY PASSWORD ${sqlString(hash)};`)
    previous = undefined
  }
  for (const object of [...new Set([...Object.keys(haveGrants), ...Object.keys(wantGrants)])].sort()) {
    const h = haveGrants[object] ?? []
    const w = wantGrants[object] ?? []
    if (h.join(',') === w.join(',')) continue
    summary.push(`${object}: ${h.join(', ') || 'none'} -> ${w.join(', ') || 'none'}`)
    if (h.length > 0) sql.push(`REVOKE ALL PRIVILEGES ON ${sqlObject(object)} FROM ${account};`)
    if (w.length > 0) sql.push(`GRANT ${w.join(', ')} ON ${sqlObject(object)} TO ${account};`)
  }
  if (sql.length === 0) return ok(Object.entries(haveGrants).map(([o, p]) => `${o}: ${p.join(', ')}`).join('; ') || undefined)
  const after: MysqlUserInfo = { server: 'up', exists: true, plugin: 'mysql_native_password', authString: hash, ...(previous !== undefined ? { previousAuthString: previous } : {}), grants: wantGrants }
  return change(summary.join('; '), (ctx) => runSql(ctx, sql.join('\n') + '\n').then(() => {}), { predicts: [predict(q, after)] })
}

export { mysqlReplica, type MysqlReplicaOptions } from './mysql-replica.ts'
export { runSql, sqlIdent, sqlString, MYSQL_BATCH } from './mysql-sql.ts'
export { mysqlServer, mysqlDatabaseState, mysqlUserState, mysqlReplicaState, mysqlVariable, mysqlReplicaPassword } from '../facts/mysql.ts'
export type { MysqlServerInfo, MysqlDatabaseInfo, MysqlUserInfo, MysqlReplicaInfo } from '../facts/mysql.ts'
export { mysqlGlobals, type MysqlGlobalsOptions, type MysqlSettingValue } from './mysql-globals.ts'
