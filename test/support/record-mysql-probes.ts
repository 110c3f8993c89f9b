/**
 * Records the mysql fact's fixtures on the lab, from a converged reference
 * stack (`npx muster apply playbooks/site.ts -i inventory/lab.ts` first):
 *
 *   npx tsx test/support/record-mysql-probes.ts
 *
 * web-01 is the primary, web-02 a healthy replica, db-03 a replica briefly
 * stopped (and its server briefly down), lb-01 a host without MariaDB.
 */
import { labExec } from '../../src/lab/exec.ts'
import { mysqlFact } from '../../src/facts/mysql.ts'
import { emptyStats, type Connection } from '../../src/ssh/connection.ts'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mysqlNativeHash } from '../../src/resources/mysql.ts'
import { recordProbe, FIXTURES_DIR } from './record-probes.ts'

/**
 * The lab's passwords are its own (random, in the lab's dir): their hashes are
 * replaced by those of fixed fixture passwords, so no credential of any host is
 * committed and the tests know which password matches.
 */
const FIXTURE_PASSWORDS = { app: 'fixture-app-password', repl: 'fixture-repl-password' }

function scrubHashes(name: string): void {
  const file = join(FIXTURES_DIR, 'mysql', `${name}.txt`)
  let text = readFileSync(file, 'utf8')
  for (const [user, pw] of Object.entries(FIXTURE_PASSWORDS)) {
    const fake = mysqlNativeHash(pw).reveal()
    const line = new RegExp(`^user\tmysql_native_password\t(\\*[0-9A-F]{40})$`, 'm')
    const block = text.split(`#muster-key\tuser:${user}@%\n`)[1]
    const real = block ? line.exec(block)?.[1] : undefined
    if (real) text = text.split(real).join(fake)
  }
  if (/\*[0-9A-F]{40}/.test(text.replace(new RegExp(Object.values(FIXTURE_PASSWORDS).map((p) => mysqlNativeHash(p).reveal().replace('*', '\\*')).join('|'), 'g'), ''))) {
    throw new Error(`${file}: a password hash is left that is not a fixture's`)
  }
  writeFileSync(file, text)
}

function labConnection(host: string): Connection {
  return {
    host,
    stats: emptyStats(),
    exec: (command, opts = {}) => labExec(host, command, { ...(opts.stdin !== undefined ? { stdin: String(opts.stdin) } : {}) }),
    put: () => Promise.reject(new Error('not needed')),
    get: () => Promise.reject(new Error('not needed')),
    close: async () => {},
  }
}

async function on(host: string, command: string): Promise<void> {
  const r = await labExec(host, command)
  if (r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`)
}

const kind = mysqlFact as never
const all = ['server', 'database:app', 'database:nope', 'user:app@%', 'user:repl@%', 'user:ghost@%', 'replica']

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
await recordProbe(labConnection('lb-01'), kind, ['server', 'database:app', 'user:app@%', 'replica'], 'mysql', 'absent')
for (const n of ['primary', 'replica-healthy', 'replica-stopped', 'server-down', 'absent']) scrubHashes(n)
console.log('recorded test/fixtures/probes/mysql/{primary,replica-healthy,replica-stopped,server-down,absent}')
