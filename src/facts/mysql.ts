import { query, type FactKind, type FactQuery } from '../contract/fact.ts'

/**
 * What a MySQL/MariaDB server says about itself, its databases, its users and
 * its replication, read as root through the unix socket (on Debian root logs in
 * by unix_socket auth: no password anywhere). Every key of a batch is answered
 * by ONE client session (plus one for `SHOW SLAVE STATUS`, whose columns are
 * read by name); a server that is not installed or not running answers too, so
 * a plan on a bare host says "would create" instead of failing.
 *
 * Keys: `server`, `database:<name>`, `user:<name>@<host>`, `replica`,
 * `variable:<name>` (a global system variable's live value) and
 * `replica-password` (the hash of the password a replica keeps for its primary).
 */
export type ServerState = 'absent' | 'down' | 'up'

/** What the `mysqlServer` fact says about a MySQL/MariaDB server. */
export interface MysqlServerInfo {
  server: ServerState
  version?: string
  serverId?: number
  readOnly?: boolean
  logBin?: boolean
  gtidBinlogPos?: string
  gtidSlavePos?: string
}

/** What the `mysqlDatabaseState` fact says about a database. */
export interface MysqlDatabaseInfo {
  server: ServerState
  exists: boolean
  charset?: string
  collation?: string
}

/** What the `mysqlUserState` fact says about an account. */
export interface MysqlUserInfo {
  server: ServerState
  exists: boolean
  plugin?: string
  /** authentication_string: for mysql_native_password, '*' + 40 upper-case hex digits. Compared, never printed. */
  authString?: string
  /**
   * A second password the account also accepts (MariaDB's `IDENTIFIED VIA ... OR ...`,
   * kept in mysql.global_priv's auth_or): the previous one during a rotation. Compared, never printed.
   */
  previousAuthString?: string
  /** Privileges per object ("appdb.*", "*.*"), upper case and sorted; USAGE alone is left out. */
  grants: Record<string, string[]>
}

/** What the `mysqlReplicaState` fact says about replication on a server. */
export interface MysqlReplicaInfo {
  server: ServerState
  /** A primary is configured (SHOW SLAVE STATUS has a row). */
  configured: boolean
  masterHost?: string
  masterPort?: number
  masterUser?: string
  /** "Slave_Pos", "Current_Pos" or "No" (MariaDB); absent on servers without the column. */
  usingGtid?: string
  ioRunning?: string
  sqlRunning?: string
  secondsBehind?: number | null
  lastIoErrno?: number
  lastIoError?: string
  lastSqlErrno?: number
  lastSqlError?: string
  gtidIoPos?: string
  /** MASTER_DELAY in seconds (SQL_Delay); absent on servers without the column. */
  sqlDelay?: number
}

/** A global system variable as the running server has it (information_schema.SYSTEM_VARIABLES). */
export interface MysqlVariableInfo {
  server: ServerState
  /** The server knows a variable of this name. */
  known: boolean
  /** GLOBAL_VALUE as the server prints it ("ON", "1", "ROW", "10.0.0.11"). */
  value?: string
  /** SET GLOBAL can change it (READ_ONLY = NO); otherwise only a restart reads the file again. */
  dynamic?: boolean
}

/**
 * The password a replica keeps for its primary (MariaDB: line 6 of master.info
 * in the data directory), as its sha256, hashed on the host: the password
 * never leaves it in clear. Compared with the wanted password's sha256, never printed.
 */
export interface MysqlReplicaPasswordInfo {
  server: ServerState
  /** 64 hex digits; null: no master.info (nothing configured) or unreadable. */
  sha256: string | null
}

export type MysqlValue = MysqlServerInfo | MysqlDatabaseInfo | MysqlUserInfo | MysqlReplicaInfo | MysqlVariableInfo | MysqlReplicaPasswordInfo

const DB_NAME = /^[A-Za-z0-9_]{1,64}$/
const USER_NAME = /^[A-Za-z0-9_.-]{1,80}$/
const HOST_NAME = /^[A-Za-z0-9_.%:-]{1,255}$/
const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/

export function assertVariableName(name: string): string {
  if (typeof name !== 'string' || !VARIABLE_NAME.test(name)) throw new Error(`not a server variable name: ${JSON.stringify(name)} (letters, digits and _)`)
  return name.toLowerCase()
}

export function assertDatabaseName(name: string): string {
  if (typeof name !== 'string' || !DB_NAME.test(name)) {
    throw new Error(`not a database name muster manages: ${JSON.stringify(name)} (letters, digits and _, at most 64)`)
  }
  return name
}

export function assertUserName(name: string, host: string): void {
  if (typeof name !== 'string' || !USER_NAME.test(name)) throw new Error(`not a MySQL user name: ${JSON.stringify(name)} (letters, digits, _ . -)`)
  if (typeof host !== 'string' || !HOST_NAME.test(host)) throw new Error(`not a MySQL host pattern: ${JSON.stringify(host)} (letters, digits, _ . % : -)`)
}

/** The client under either name: MariaDB 11 ships `mariadb` and only optionally `mysql`. */
export const MYSQL_CLIENT = '"$(command -v mariadb || command -v mysql)"'

// markers: rows the session prints between answers; no answer starts with '#'
const KEY = '#muster-key'
const UP = '#muster-up'
const STDERR = '#muster-stderr'
const REPLICA = '#muster-replica'
const REPLICA_PASSWORD = '#muster-replica-password'
const ABSENT = '#muster-absent'

// The names are checked by their regexes, so quoting them is plain wrapping.
const lit = (s: string): string => `'${s}'`

function sqlFor(key: string): string[] {
  const k = parseKey(key)
  const marker = `SELECT '${KEY}', ${lit(key)};`
  switch (k.kind) {
    case 'server':
      return []
    case 'replica':
      return []
    case 'variable':
      // not SHOW GLOBAL VARIABLES: this table also says whether SET GLOBAL can change it
      return [marker, `SELECT 'var', GLOBAL_VALUE, READ_ONLY FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = ${lit(k.name.toUpperCase())};`]
    case 'replica-password':
      return []
    case 'database':
      return [marker, `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${lit(k.name)};`]
    case 'user':
      return [
        marker,
        `SELECT 'user', plugin, authentication_string FROM mysql.user WHERE User = ${lit(k.name)} AND Host = ${lit(k.host)};`,
        // the second of two authentication methods (a password kept during a rotation): MariaDB 10.4+
        `SELECT 'auth_or', JSON_VALUE(Priv, '$.auth_or[1].plugin'), JSON_VALUE(Priv, '$.auth_or[1].authentication_string') FROM mysql.global_priv WHERE User = ${lit(k.name)} AND Host = ${lit(k.host)} AND JSON_LENGTH(Priv, '$.auth_or') = 2;`,
        // fails with 1141 when the user does not exist: --force goes on, and that error is expected
        `SHOW GRANTS FOR ${lit(k.name)}@${lit(k.host)};`,
      ]
  }
}

type Key =
  | { kind: 'server' }
  | { kind: 'replica' }
  | { kind: 'replica-password' }
  | { kind: 'variable'; name: string }
  | { kind: 'database'; name: string }
  | { kind: 'user'; name: string; host: string }

export function parseKey(key: string): Key {
  if (key === 'server') return { kind: 'server' }
  if (key === 'replica') return { kind: 'replica' }
  if (key === 'replica-password') return { kind: 'replica-password' }
  if (key.startsWith('variable:')) return { kind: 'variable', name: assertVariableName(key.slice(9)) }
  if (key.startsWith('database:')) return { kind: 'database', name: assertDatabaseName(key.slice(9)) }
  if (key.startsWith('user:')) {
    const at = key.lastIndexOf('@')
    if (at < 5) throw new Error(`mysql fact: a user key is user:<name>@<host>, got ${JSON.stringify(key)}`)
    const name = key.slice(5, at)
    const host = key.slice(at + 1)
    assertUserName(name, host)
    return { kind: 'user', name, host }
  }
  throw new Error(`mysql fact: unknown key ${JSON.stringify(key)}`)
}

/**
 * stdout flows straight out while stderr is captured and printed after a
 * marker (as in the path fact), so an error line can never split a row.
 * Heredocs feed the SQL: the batch script itself arrives on `sh`'s stdin.
 */
function script(keys: readonly string[]): string {
  const sql = [`SELECT '${UP}', VERSION(), @@server_id, @@read_only, @@log_bin, @@gtid_binlog_pos, @@gtid_slave_pos;`, ...keys.flatMap(sqlFor)]
  const lines = [
    `if ! command -v mariadb >/dev/null 2>&1 && ! command -v mysql >/dev/null 2>&1; then echo '${ABSENT}'; exit 0; fi`,
    `{ e=$(${MYSQL_CLIENT} --force --batch --skip-column-names --connect-timeout=5 2>&1 >&3 <<'MUSTER_SQL'`,
    ...sql,
    'MUSTER_SQL',
    '); } 3>&1',
    `printf '%s\\n%s\\n' '${STDERR}' "$e"`,
  ]
  if (keys.includes('replica-password')) {
    // MariaDB keeps the password on line 6 of master.info in its data directory; only its
    // sha256 leaves the host (the server will not LOAD_FILE() its own data directory)
    lines.push(
      `echo '${REPLICA_PASSWORD}'`,
      `d=$(my_print_defaults --mysqld 2>/dev/null | sed -n 's/^--datadir=//p' | tail -n 1)`,
      `f="\${d:-/var/lib/mysql}/master.info"`,
      `if [ -r "$f" ]; then sed -n 6p "$f" | tr -d '\\n' | sha256sum | cut -c1-64; else echo -; fi`,
    )
  }
  if (keys.includes('replica')) {
    // column names on: SHOW SLAVE STATUS's columns differ between versions, so they are read by name
    lines.push(
      `echo '${REPLICA}'`,
      `${MYSQL_CLIENT} --batch --connect-timeout=5 -e 'SHOW SLAVE STATUS' 2>/dev/null || true`,
    )
  }
  return lines.join('\n')
}

/** Undo the client's batch-mode escaping of \n \t \\ and \0 in a field. */
export function unescapeField(s: string): string {
  return s.replace(/\\([nt0\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === '0' ? '\0' : '\\'))
}

/** "Can't connect": the server is installed but not running (yet). */
const DOWN = /ERROR (2002|2003|2013)\b|Can't connect to (local )?(MySQL|MariaDB)? ?server/i
const NO_SUCH_GRANT = /^ERROR 1141 /

function parse(stdout: string, keys: readonly string[]): Map<string, MysqlValue> {
  const out = new Map<string, MysqlValue>()
  const absentAll = (server: ServerState): Map<string, MysqlValue> => {
    for (const k of keys) out.set(k, emptyValue(k, server))
    return out
  }
  if (stdout.split('\n').includes(ABSENT)) return absentAll('absent')

  const lines = stdout.split('\n')
  const errAt = lines.indexOf(STDERR)
  if (errAt < 0) throw new Error('mysql probe: output is missing its stderr marker')
  const repAt = lines.indexOf(REPLICA, errAt)
  const rpwAt = lines.indexOf(REPLICA_PASSWORD, errAt)
  const errEnd = [repAt, rpwAt].filter((i) => i >= 0)
  const errors = lines
    .slice(errAt + 1, errEnd.length > 0 ? Math.min(...errEnd) : undefined)
    .filter((l) => l.trim() !== '')
  const rows = lines.slice(0, errAt).filter((l) => l !== '').map((l) => l.split('\t').map(unescapeField))
  const upRow = rows.find((r) => r[0] === UP)

  if (!upRow) {
    if (errors.some((l) => DOWN.test(l))) return absentAll('down')
    throw new Error(`mysql probe: cannot read the server as root through its socket: ${errors.join('; ') || 'no answer'}`)
  }
  const serious = errors.filter((l) => !NO_SUCH_GRANT.test(l))
  if (serious.length > 0) throw new Error(`mysql probe: ${serious.join('; ')}`)

  // group the rows under the key marker that precedes them
  const byKey = new Map<string, string[][]>()
  let current: string[][] | undefined
  for (const r of rows) {
    if (r[0] === UP) continue
    if (r[0] === KEY) {
      current = []
      byKey.set(r[1] ?? '', current)
      continue
    }
    current?.push(r)
  }

  for (const key of keys) {
    const k = parseKey(key)
    const got = byKey.get(key) ?? []
    switch (k.kind) {
      case 'server':
        out.set(key, serverInfo(upRow))
        break
      case 'database': {
        const r = got[0]
        out.set(key, r ? { server: 'up', exists: true, charset: r[0], collation: r[1] } : { server: 'up', exists: false })
        break
      }
      case 'user': {
        const u = got.find((r) => r[0] === 'user')
        const or = got.find((r) => r[0] === 'auth_or' && r[1] === 'mysql_native_password' && /^\*[0-9A-F]{40}$/.test(r[2] ?? ''))
        const grants = parseGrants(got.filter((r) => r[0] !== 'user' && r[0] !== 'auth_or').map((r) => r.join('\t')))
        out.set(
          key,
          u ? { server: 'up', exists: true, plugin: u[1] ?? '', authString: u[2] ?? '', ...(or ? { previousAuthString: or[2]! } : {}), grants } : { server: 'up', exists: false, grants: {} },
        )
        break
      }
      case 'replica':
        out.set(key, parseReplicaStatus(repAt < 0 ? [] : lines.slice(repAt + 1).filter((l) => l !== '')))
        break
      case 'variable': {
        const r = got.find((x) => x[0] === 'var')
        out.set(key, r ? { server: 'up', known: true, value: r[1] ?? '', dynamic: r[2] === 'NO' } : { server: 'up', known: false })
        break
      }
      case 'replica-password': {
        const h = rpwAt < 0 ? undefined : lines[rpwAt + 1]?.trim()
        out.set(key, { server: 'up', sha256: h !== undefined && /^[0-9a-f]{64}$/.test(h) ? h : null })
        break
      }
    }
  }
  return out
}

function emptyValue(key: string, server: ServerState): MysqlValue {
  const k = parseKey(key)
  switch (k.kind) {
    case 'server':
      return { server }
    case 'database':
      return { server, exists: false }
    case 'user':
      return { server, exists: false, grants: {} }
    case 'replica':
      return { server, configured: false }
    case 'variable':
      return { server, known: false }
    case 'replica-password':
      return { server, sha256: null }
  }
}

function serverInfo(r: string[]): MysqlServerInfo {
  return {
    server: 'up',
    version: r[1] ?? '',
    serverId: Number(r[2]),
    readOnly: r[3] === '1',
    logBin: r[4] === '1',
    gtidBinlogPos: r[5] ?? '',
    gtidSlavePos: r[6] ?? '',
  }
}

/** "GRANT SELECT, INSERT ON `appdb`.* TO `app`@`%` IDENTIFIED BY PASSWORD '*...'" -> { 'appdb.*': ['INSERT', 'SELECT'] } */
export function parseGrants(lines: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const line of lines) {
    const m = /^GRANT (.+?) ON (\S+) TO /.exec(line)
    if (!m) continue
    const object = m[2]!.replace(/`/g, '')
    const privs = normalizePrivileges(m[1]!.split(','))
    if (privs.length === 0) continue
    out[object] = [...new Set([...(out[object] ?? []), ...privs])].sort()
  }
  return out
}

/** Upper case, one spelling per privilege ("ALL" is "ALL PRIVILEGES"; MariaDB's REPLICA is SLAVE); USAGE means none. */
export function normalizePrivileges(privs: readonly string[]): string[] {
  const out = new Set<string>()
  for (const p of privs) {
    let n = p.trim().toUpperCase().replace(/\s+/g, ' ')
    if (n === '' || n === 'USAGE') continue
    if (n === 'ALL') n = 'ALL PRIVILEGES'
    n = n.replace(/^REPLICATION REPLICA$/, 'REPLICATION SLAVE').replace(/^BINLOG MONITOR$/, 'REPLICATION CLIENT')
    out.add(n)
  }
  return [...out].sort()
}

/** `SHOW SLAVE STATUS` in batch mode with column names: a header line, then one row (or nothing). */
export function parseReplicaStatus(lines: readonly string[]): MysqlReplicaInfo {
  if (lines.length < 2) return { server: 'up', configured: false }
  const names = lines[0]!.split('\t')
  const values = lines[1]!.split('\t').map(unescapeField)
  const f = new Map(names.map((n, i) => [n, values[i] ?? '']))
  // read by the column names the server printed: MariaDB (10.x and 11.8 alike) says Slave_/Master_, MySQL
  // 8.0.22+ says Replica_/Source_; each read takes whichever the header has, never a version number
  for (const [old, now] of [['Slave_', 'Replica_'], ['Master_', 'Source_'], ['_Master', '_Source']] as const) {
    for (const n of names) if (n.includes(now) && !f.has(n.replace(now, old))) f.set(n.replace(now, old), f.get(n)!)
  }
  const num = (n: string): number => Number(f.get(n) ?? 0) || 0
  const behind = f.get('Seconds_Behind_Master')
  return {
    server: 'up',
    configured: true,
    masterHost: f.get('Master_Host') ?? '',
    masterPort: num('Master_Port'),
    masterUser: f.get('Master_User') ?? '',
    ...(f.has('Using_Gtid') ? { usingGtid: f.get('Using_Gtid')! } : {}),
    ioRunning: f.get('Slave_IO_Running') ?? '',
    sqlRunning: f.get('Slave_SQL_Running') ?? '',
    secondsBehind: behind === undefined || behind === '' || behind === 'NULL' ? null : Number(behind),
    lastIoErrno: num('Last_IO_Errno'),
    lastIoError: f.get('Last_IO_Error') ?? '',
    lastSqlErrno: num('Last_SQL_Errno'),
    lastSqlError: f.get('Last_SQL_Error') ?? '',
    gtidIoPos: f.get('Gtid_IO_Pos') ?? '',
    ...(f.has('SQL_Delay') ? { sqlDelay: num('SQL_Delay') } : {}),
  }
}

export const mysqlFact: FactKind<MysqlValue> = {
  name: 'mysql',
  coalesce: true,
  script,
  parse: (stdout, keys) => parse(stdout, keys),
}

/** The server as a whole: installed, running, its server_id, read_only, binary log and GTID positions. */
export function mysqlServer(): FactQuery<MysqlServerInfo> {
  return query(mysqlFact, 'server') as FactQuery<MysqlServerInfo>
}
/** The fact of one database: whether it exists, its charset and collation. */
export function mysqlDatabaseState(name: string): FactQuery<MysqlDatabaseInfo> {
  return query(mysqlFact, `database:${assertDatabaseName(name)}`) as FactQuery<MysqlDatabaseInfo>
}
/** The fact of one account: whether it exists, its password hash and grants. */
export function mysqlUserState(name: string, host: string): FactQuery<MysqlUserInfo> {
  assertUserName(name, host)
  return query(mysqlFact, `user:${name}@${host}`) as FactQuery<MysqlUserInfo>
}
/** The fact of a server's replication: threads, primary, GTID position, lag. */
export function mysqlReplicaState(): FactQuery<MysqlReplicaInfo> {
  return query(mysqlFact, 'replica') as FactQuery<MysqlReplicaInfo>
}
/** A global system variable's live value, and whether SET GLOBAL can change it. */
export function mysqlVariable(name: string): FactQuery<MysqlVariableInfo> {
  return query(mysqlFact, `variable:${assertVariableName(name)}`) as FactQuery<MysqlVariableInfo>
}
/** The hash of the replication password this replica keeps (master.info). */
export function mysqlReplicaPassword(): FactQuery<MysqlReplicaPasswordInfo> {
  return query(mysqlFact, 'replica-password') as FactQuery<MysqlReplicaPasswordInfo>
}
