/**
 * Records the mysql fact's fixtures on the lab, from a converged reference
 * stack (`muster apply playbooks/site.ts -i inventory/lab.ts` first):
 *
 *   npx tsx test/support/record-mysql-probes.ts
 *
 * web-01 is the primary, web-02 a healthy replica, db-03 a replica briefly
 * stopped (and its server briefly down), lb-01 a host without MariaDB. For
 * issue 15: db-03 with read_only turned OFF by hand (SET GLOBAL) and its
 * stored replication password changed, and web-01's app account in the
 * middle of a rotation (accepting two passwords), each put back at once.
 */
import { labExec } from '../../src/lab/exec.ts'
import { mysqlFact } from '../../src/facts/mysql.ts'
import { recordProbe, labConnection } from './record-probes.ts'
import { FIXTURE_NEXT_APP, FIXTURE_PASSWORDS, STORED_BY_HAND, scrubHashes } from './scrub-mysql-hashes.ts'

async function on(host: string, command: string): Promise<void> {
  const r = await labExec(host, command)
  if (r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`)
}

async function sql(host: string, statements: string): Promise<string> {
  const r = await labExec(host, 'mariadb -BN', { stdin: statements })
  if (r.code !== 0) throw new Error(`${host}: SQL failed: ${r.stderr}`)
  return r.stdout
}

const kind = mysqlFact as never
const variables = ['variable:read_only', 'variable:server_id', 'variable:log_bin', 'variable:bind_address', 'variable:binlog_format', 'variable:no_such_setting']
const all = ['server', 'database:app', 'database:nope', 'user:app@%', 'user:repl@%', 'user:ghost@%', 'replica', 'replica-password', ...variables]

await recordProbe(labConnection('web-01'), kind, all, 'mysql', 'primary')
await recordProbe(labConnection('web-02'), kind, all, 'mysql', 'replica-healthy')
await on('db-03', "mariadb -e 'STOP SLAVE'")
try {
  await recordProbe(labConnection('db-03'), kind, ['server', 'replica'], 'mysql', 'replica-stopped')
} finally {
  await on('db-03', "mariadb -e 'START SLAVE'")
}
await on('db-03', 'systemctl stop mariadb')
try {
  await recordProbe(labConnection('db-03'), kind, ['server', 'database:app', 'user:app@%', 'replica'], 'mysql', 'server-down')
} finally {
  await on('db-03', 'systemctl start mariadb')
}
await recordProbe(labConnection('lb-01'), kind, ['server', 'database:app', 'user:app@%', 'replica', 'replica-password', 'variable:read_only'], 'mysql', 'absent')

// a live setting changed by hand, and a stored password that is not the inventory's
await sql('db-03', `STOP SLAVE; SET GLOBAL read_only = OFF; SET GLOBAL binlog_format = 'MIXED'; CHANGE MASTER TO MASTER_PASSWORD = '${STORED_BY_HAND}';`)
try {
  await recordProbe(labConnection('db-03'), kind, ['server', 'replica', 'replica-password', ...variables], 'mysql', 'replica-drifted')
} finally {
  // put back by the next `muster apply` (the inventory's password); the settings at once
  await sql('db-03', "SET GLOBAL read_only = ON; SET GLOBAL binlog_format = 'ROW';")
}

// the app account mid-rotation: a new password first, the previous one still accepted
const realApp = (await sql('web-01', "SELECT authentication_string FROM mysql.user WHERE User = 'app' AND Host = '%';")).trim()
if (!/^\*[0-9A-F]{40}$/.test(realApp)) throw new Error('web-01: no app account to record a rotation of')
await sql('web-01', `ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${FIXTURE_NEXT_APP}') OR mysql_native_password USING PASSWORD('${FIXTURE_PASSWORDS.app}');`)
try {
  await recordProbe(labConnection('web-01'), kind, ['server', 'user:app@%'], 'mysql', 'primary-rotating')
} finally {
  await sql('web-01', `ALTER USER 'app'@'%' IDENTIFIED BY PASSWORD '${realApp}';`)
}
const names = ['primary', 'replica-healthy', 'replica-stopped', 'server-down', 'absent', 'replica-drifted', 'primary-rotating']
for (const n of names) scrubHashes('mysql', n)
console.log(`recorded test/fixtures/probes/mysql/{${names.join(',')}}; now \`muster apply\` puts db-03's stored password back`)
