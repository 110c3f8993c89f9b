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
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mysqlNativeHash } from '../../src/resources/mysql.ts'
import { createHash } from 'node:crypto'
import { recordProbe, labConnection, FIXTURES_DIR } from './record-probes.ts'

/**
 * The lab's passwords are its own (random, in the lab's dir): their hashes are
 * replaced by those of fixed fixture passwords, so no credential of any host is
 * committed and the tests know which password matches.
 */
const FIXTURE_PASSWORDS = { app: 'fixture-app-password', repl: 'fixture-repl-password' }
/** The app account's second password in the 'primary-rotating' fixture (a fixture's, set for seconds). */
const FIXTURE_NEXT_APP = 'fixture-app-password-next'
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

function scrubHashes(name: string): void {
  const file = join(FIXTURES_DIR, 'mysql', `${name}.txt`)
  let text = readFileSync(file, 'utf8')
  for (const [user, pw] of Object.entries(FIXTURE_PASSWORDS)) {
    const fake = mysqlNativeHash(pw).reveal()
    const line = new RegExp(`^user\tmysql_native_password\t(\\*[0-9A-F]{40})$`, 'm')
    const block = text.split(`#muster-key\tuser:${user}@%\n`)[1]
    const real = block ? line.exec(block)?.[1] : undefined
    // a fixture's own hash (set by this script) stays as it is
    const ours = [...Object.values(FIXTURE_PASSWORDS), FIXTURE_NEXT_APP].map((p) => mysqlNativeHash(p).reveal())
    if (real && !ours.includes(real)) text = text.split(real).join(fake)
  }
  // lab N's subnet is 10.(77+N).0.0/24: written as lab 0's, so the tests do not depend on which lab recorded them
  text = text.replace(/\b10\.(7[7-9]|8[0-6])\.0\.(\d+)\b/g, '10.77.0.$2')
  // the replication password a replica stores, hashed on the host: the lab's real one becomes the fixture's
  text = text.replace(/^(#muster-replica-password\n)([0-9a-f]{64})$/m, (_, head: string, real: string) => (real === sha256(STORED_BY_HAND) ? `${head}${real}` : `${head}${sha256(FIXTURE_PASSWORDS.repl)}`))
  const known = [...Object.values(FIXTURE_PASSWORDS), FIXTURE_NEXT_APP].map((p) => mysqlNativeHash(p).reveal().replace('*', '\\*'))
  if (/\*[0-9A-F]{40}/.test(text.replace(new RegExp(known.join('|'), 'g'), ''))) {
    throw new Error(`${file}: a password hash is left that is not a fixture's`)
  }
  writeFileSync(file, text)
}

async function on(host: string, command: string): Promise<void> {
  const r = await labExec(host, command)
  if (r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`)
}

/** The password db-03's master.info holds in the 'replica-drifted' fixture (a fixture's, set for seconds, replication stopped meanwhile). */
const STORED_BY_HAND = 'fixture-repl-password-by-hand'

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
for (const n of names) scrubHashes(n)
console.log(`recorded test/fixtures/probes/mysql/{${names.join(',')}}; now \`muster apply\` puts db-03's stored password back`)
