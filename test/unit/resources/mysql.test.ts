import { expect } from 'chai'
import { mysqlNativeHash, mysqlDatabase, mysqlUser, planUser, normalizeGrants } from '../../../src/resources/mysql.ts'
import { sqlString, sqlIdent } from '../../../src/resources/mysql-sql.ts'
import { mysqlReplica, gtidOfDump, passwordSha256 } from '../../../src/resources/mysql-replica.ts'
import { mysqlFact, parseGrants, mysqlDatabaseState, mysqlUserState, mysqlReplicaState, type MysqlReplicaInfo, type MysqlUserInfo } from '../../../src/facts/mysql.ts'
import { secret, isSecret, maskSecrets } from '../../../src/core/secret.ts'
import type { ApplyContext } from '../../../src/contract/resource.ts'
import type { Connection, ExecOptions } from '../../../src/ssh/connection.ts'
import { localHostInfo } from '../../../src/engine/apply-context.ts'
import { asChange, predicted } from './file-family.support.ts'
import { loadFixture } from '../../support/record-probes.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

/** The passwords whose hashes test/support/record-mysql-probes.ts leaves in the fixtures. */
const FIXTURE = { app: secret('fixture-app-password'), repl: secret('fixture-repl-password') }
const fixture = (name: string) => loadFixture(mysqlFact, 'mysql', name)
/** A replica whose stored password the probe could not read: the rows below are about other things. */
const NO_STORED = { server: 'up' as const, sha256: null }

/** An ApplyContext that records what would run, and answers from a script. */
function recordingCtx(answer: (cmd: string, stdin: string) => { code?: number; stdout?: string } = () => ({})) {
  const runs: { command: string; stdin: string; host: string }[] = []
  const conn = (host: string): Connection => ({
    host,
    stats: { execs: 0, sftpOps: 0, bytesSent: 0, bytesReceived: 0 },
    async exec(command: string, o: ExecOptions = {}) {
      const stdin = String(o.stdin ?? '')
      runs.push({ command, stdin, host })
      const a = answer(command, stdin)
      return { code: a.code ?? 0, stdout: a.stdout ?? '', stderr: '' }
    },
    async put() {},
    async get() {
      return Buffer.alloc(0)
    },
    async close() {},
  })
  const self = conn('replica')
  const ctx: ApplyContext = {
    host: localHostInfo('replica'),
    conn: self,
    async run(command, o = {}) {
      const r = await self.exec(command, o)
      if (r.code !== 0) throw new Error(`exit ${r.code}`)
      return r
    },
    log: () => {},
    connectTo: async (name) => conn(name),
  }
  return { ctx, runs }
}

describe('mysql', () => {
  describe('mysqlNativeHash', () => {
    it("is MySQL's PASSWORD(): '*' + upper hex of SHA1(SHA1(pw)), kept a Secret", () => {
      // the well-known value of PASSWORD('password') in MySQL 5.x / MariaDB
      const h = mysqlNativeHash(secret('password'))
      expect(isSecret(h)).to.equal(true)
      expect(h.reveal()).to.equal('*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19')
      expect(String(h)).to.equal('***')
      expect(maskSecrets('hash *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19 here')).to.equal('hash *** here')
    })
  })

  describe('SQL quoting', () => {
    it('doubles quotes and escapes backslashes', () => {
      expect(sqlString("it's a \\ test")).to.equal("'it''s a \\\\ test'")
      expect(sqlIdent('we`ird')).to.equal('`we``ird`')
    })
  })

  describe('fact parsing', () => {
    const keys = ['server', 'database:app', 'user:app@%', 'user:ghost@%', 'replica']
    const parse = (stdout: string, k = keys) => mysqlFact.parse(stdout, k, 0)

    it('a host without a client: everything absent, nothing fails', () => {
      const v = parse('#muster-absent\n')
      expect(v.get('server')).to.deep.equal({ server: 'absent' })
      expect(v.get('database:app')).to.deep.equal({ server: 'absent', exists: false })
      expect(v.get('replica')).to.deep.equal({ server: 'absent', configured: false })
    })

    it("a server that is not running is 'down'", () => {
      const out = "#muster-stderr\nERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)\n#muster-replica\n"
      expect(parse(out).get('user:app@%')).to.deep.equal({ server: 'down', exists: false, grants: {} })
    })

    it('access denied is an error, not "absent"', () => {
      const out = "#muster-stderr\nERROR 1698 (28000): Access denied for user 'root'@'localhost'\n"
      expect(() => parse(out, ['server'])).to.throw(/cannot read the server as root.*1698/)
    })

    it('an unexpected SQL error is an error; a missing grant is the expected answer for a missing user', () => {
      const up = '#muster-up\t10.11.6-MariaDB-0+deb12u1-log\t1\t0\t1\t0-1-5\t\n'
      expect(() => parse(`${up}#muster-stderr\nERROR 1064 (42000) at line 3: You have an error\n`, ['server'])).to.throw(/1064/)
      expect(parse(`${up}#muster-stderr\nERROR 1141 (42000) at line 5: There is no such grant defined for user 'ghost' on host '%'\n`, ['server']).get('server')).to.include({ server: 'up' })
    })
  })

  forEachRelease('plans against probes recorded on Debian 12 (MariaDB 10.11) and Debian 13 (MariaDB 11.8)', () => {
    it('the primary: database, accounts and grants as the role asks are ok; no replication there', async () => {
      const f = await fixture('primary')
      expect(f.value('server')).to.include({ server: 'up', serverId: 1, readOnly: false, logBin: true })
      expect(mysqlDatabase('app', { collation: 'utf8mb4_unicode_ci' }).plan({ db: f.value('database:app') as never }).kind).to.equal('ok')
      expect(asChange(mysqlDatabase('nope').plan({ db: f.value('database:nope') as never })).summary).to.equal('create database (utf8mb4)')
      const app = mysqlUser('app', { password: FIXTURE.app, privileges: { 'app.*': 'ALL' } })
      expect(app.plan({ user: f.value('user:app@%') as never }).kind).to.equal('ok')
      const repl = mysqlUser('repl', { password: FIXTURE.repl, privileges: { '*.*': ['REPLICATION SLAVE'] } })
      expect(repl.plan({ user: f.value('user:repl@%') as never }).kind).to.equal('ok')
      // the other one's password: the hashes differ, and the plan says so without either
      expect(asChange(mysqlUser('app', { password: FIXTURE.repl, privileges: { 'app.*': 'ALL' } }).plan({ user: f.value('user:app@%') as never })).summary).to.equal('password')
      expect(f.value('user:ghost@%')).to.deep.equal({ server: 'up', exists: false, grants: {} })
      expect(f.value('replica')).to.deep.equal({ server: 'up', configured: false })
    })

    const replica = mysqlReplica({ primary: { host: 'web-01', address: '10.77.0.11' }, user: 'repl', password: FIXTURE.repl })

    it('a healthy replica is ok, read_only and at the primary\'s GTID', async () => {
      const f = await fixture('replica-healthy')
      expect(f.value('server')).to.include({ serverId: 2, readOnly: true })
      const r = f.value('replica') as MysqlReplicaInfo
      expect(r).to.include({ configured: true, masterHost: '10.77.0.11', masterUser: 'repl', usingGtid: 'Slave_Pos', ioRunning: 'Yes', sqlRunning: 'Yes', secondsBehind: 0, sqlDelay: 0 })
      // the password it stores (hashed on the host) is the inventory's
      expect(f.value('replica-password')).to.deep.equal({ server: 'up', sha256: passwordSha256(FIXTURE.repl) })
      expect(replica.plan({ replica: r, password: f.value('replica-password') as never }).kind).to.equal('ok')
    })

    it('a stopped replica is started, not re-seeded or re-pointed', async () => {
      const r = (await fixture('replica-stopped')).value('replica') as MysqlReplicaInfo
      expect(r).to.include({ ioRunning: 'No', sqlRunning: 'No', secondsBehind: null })
      expect(asChange(replica.plan({ replica: r, password: NO_STORED })).summary).to.equal('start replication (IO thread No, SQL thread No)')
    })

    it('a server that is down, and a host without MariaDB, plan "would create" rather than fail', async () => {
      for (const name of ['server-down', 'absent']) {
        const f = await fixture(name)
        expect(f.value('server')).to.deep.equal({ server: name === 'absent' ? 'absent' : 'down' })
        expect(asChange(mysqlDatabase('app').plan({ db: f.value('database:app') as never })).summary).to.equal('create database (utf8mb4)')
        expect(asChange(mysqlUser('app', { password: FIXTURE.app }).plan({ user: f.value('user:app@%') as never })).summary).to.equal('create')
        expect(asChange(replica.plan({ replica: f.value('replica') as never, password: NO_STORED })).summary).to.match(/^replicate from web-01/)
      }
    })
  })

  describe('grants', () => {
    it('reads SHOW GRANTS, leaving USAGE and the password hash out', () => {
      expect(
        parseGrants([
          "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
          'GRANT ALL PRIVILEGES ON `app`.* TO `app`@`%`',
          'GRANT SELECT, INSERT ON `other`.`t` TO `app`@`%`',
          'GRANT REPLICATION SLAVE ON *.* TO `repl`@`%`',
        ]),
      ).to.deep.equal({ 'app.*': ['ALL PRIVILEGES'], 'other.t': ['INSERT', 'SELECT'], '*.*': ['REPLICATION SLAVE'] })
    })
    it('normalises what users write', () => {
      expect(normalizeGrants({ 'app.*': 'ALL', '*.*': ['replication replica', 'usage'] }, 'x')).to.deep.equal({ 'app.*': ['ALL PRIVILEGES'], '*.*': ['REPLICATION SLAVE'] })
      expect(() => normalizeGrants({ 'app; DROP': ['SELECT'] }, 'x')).to.throw(/not a grant object/)
      expect(() => normalizeGrants({ 'app.*': ['SELECT; DROP'] }, 'x')).to.throw(/not a privilege/)
    })
  })

  describe('database plan', () => {
    const db = mysqlDatabase('app', { collation: 'utf8mb4_unicode_ci' })
    it('creates a missing database (on a server not even installed yet too), predicting it', () => {
      for (const server of ['absent', 'down', 'up'] as const) {
        const c = asChange(db.plan({ db: { server, exists: false } }))
        expect(c.summary).to.equal('create database (utf8mb4)')
        expect(predicted(c, mysqlDatabaseState('app'))).to.deep.equal({ server: 'up', exists: true, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' })
      }
    })
    it('is ok when it exists as asked, and alters a charset that differs', () => {
      expect(db.plan({ db: { server: 'up', exists: true, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' } }).kind).to.equal('ok')
      expect(asChange(db.plan({ db: { server: 'up', exists: true, charset: 'latin1', collation: 'latin1_swedish_ci' } })).summary).to.equal(
        'charset latin1 -> utf8mb4, collation latin1_swedish_ci -> utf8mb4_unicode_ci',
      )
    })
    it('refuses names it would have to quote', () => {
      expect(() => mysqlDatabase('app`; DROP')).to.throw(/not a database name/)
    })
  })

  describe('user plan', () => {
    const pw = secret('s3cr3t-app-pw')
    const hash = mysqlNativeHash(pw).reveal()
    const u = mysqlUser('app', { host: '%', password: pw, privileges: { 'app.*': 'ALL' } })
    const have = (o: Partial<MysqlUserInfo>): MysqlUserInfo => ({ server: 'up', exists: true, plugin: 'mysql_native_password', authString: hash, grants: { 'app.*': ['ALL PRIVILEGES'] }, ...o })

    it('is ok when the stored hash and the grants match: the password itself is never needed', () => {
      expect(u.plan({ user: have({}) }).kind).to.equal('ok')
    })

    it('creates a missing user with the hash only; the SQL travels on stdin', async () => {
      const c = asChange(u.plan({ user: { server: 'absent', exists: false, grants: {} } }))
      expect(c.summary).to.equal('create; app.*: none -> ALL PRIVILEGES')
      const { ctx, runs } = recordingCtx()
      await c.apply(ctx)
      expect(runs).to.have.length(1)
      expect(runs[0]!.command).not.to.include(hash)
      expect(runs[0]!.stdin).to.equal(
        `CREATE USER 'app'@'%' IDENTIFIED BY PASSWORD '${hash}';\nGRANT ALL PRIVILEGES ON \`app\`.* TO 'app'@'%';\n`,
      )
      expect(runs.map((r) => r.stdin + r.command).join('')).not.to.include('s3cr3t-app-pw')
      expect(predicted(c, mysqlUserState('app', '%'))).to.deep.equal(have({}))
    })

    it('a changed password is said without showing either hash', () => {
      const c = asChange(u.plan({ user: have({ authString: '*0000000000000000000000000000000000000000' }) }))
      expect(c.summary).to.equal('password')
      expect(c.summary).not.to.include('*')
    })

    it('another auth plugin is replaced', () => {
      expect(asChange(u.plan({ user: have({ plugin: 'unix_socket', authString: '' }) })).summary).to.equal('auth unix_socket -> mysql_native_password')
    })

    it('grants are made exact: extra ones are revoked', async () => {
      const c = asChange(u.plan({ user: have({ grants: { 'app.*': ['SELECT'], 'other.*': ['SELECT'] } }) }))
      expect(c.summary).to.equal('app.*: SELECT -> ALL PRIVILEGES; other.*: SELECT -> none')
      const { ctx, runs } = recordingCtx()
      await c.apply(ctx)
      expect(runs[0]!.stdin).to.equal(
        [
          "REVOKE ALL PRIVILEGES ON `app`.* FROM 'app'@'%';",
          "GRANT ALL PRIVILEGES ON `app`.* TO 'app'@'%';",
          "REVOKE ALL PRIVILEGES ON `other`.* FROM 'app'@'%';",
          '',
        ].join('\n'),
      )
    })

    it('without privileges, grants are left alone', () => {
      const plain = planUser({ name: 'app', host: '%', state: 'present', hash: mysqlNativeHash(pw) }, have({ grants: { 'x.*': ['SELECT'] } }))
      expect(plain.kind).to.equal('ok')
    })

    it('a password must be a Secret', () => {
      expect(() => mysqlUser('app', { password: 'plain' as never })).to.throw(/Secret/)
    })
  })

  describe('replica plan', () => {
    const r = mysqlReplica({ primary: { host: 'web-01', address: '10.77.0.11' }, user: 'repl', password: secret('repl-pw-123') })
    const healthy: MysqlReplicaInfo = {
      server: 'up',
      configured: true,
      masterHost: '10.77.0.11',
      masterPort: 3306,
      masterUser: 'repl',
      usingGtid: 'Slave_Pos',
      ioRunning: 'Yes',
      sqlRunning: 'Yes',
      secondsBehind: 0,
      lastIoErrno: 0,
      lastIoError: '',
      lastSqlErrno: 0,
      lastSqlError: '',
      gtidIoPos: '0-1-12',
    }
    const plan = (o: Partial<MysqlReplicaInfo>) => r.plan({ password: NO_STORED, replica: { ...healthy, ...o } })

    it('healthy replication is left alone', () => {
      const p = plan({})
      expect(p.kind).to.equal('ok')
      expect(p.kind === 'ok' && p.detail).to.equal('replicating from repl@10.77.0.11:3306, IO Yes, SQL Yes, 0s behind')
      // still connecting without an error (the primary restarting): not a reason to touch it
      expect(plan({ ioRunning: 'Connecting' }).kind).to.equal('ok')
    })

    it('a new replica is seeded from a dump of the primary, then started at its GTID', async () => {
      const c = asChange(r.plan({ password: NO_STORED, replica: { server: 'absent', configured: false } }))
      expect(c.summary).to.equal('replicate from web-01 (repl@10.77.0.11:3306) with GTID, seeded from a consistent dump of web-01')
      expect(predicted(c, mysqlReplicaState())).to.include({ ioRunning: 'Yes', sqlRunning: 'Yes', masterHost: '10.77.0.11' })
      const dump = "-- MariaDB dump\n-- SET GLOBAL gtid_slave_pos='0-1-42';\nCREATE DATABASE app;\n"
      const status = 'Slave_IO_Running\tSlave_SQL_Running\tLast_SQL_Errno\nYes\tYes\t0\n'
      const { ctx, runs } = recordingCtx((cmd, stdin) => (cmd.includes('dump') ? { stdout: dump } : stdin.startsWith('SHOW SLAVE STATUS') ? { stdout: status } : {}))
      await c.apply(ctx)
      expect(runs[0]!.host).to.equal('web-01')
      expect(runs[0]!.command).to.include('--single-transaction').and.include('--gtid').and.include('--master-data=2')
      const load = runs[1]!
      expect(load.host).to.equal('replica')
      expect(load.command).not.to.include('repl-pw-123')
      const sql = load.stdin
      const order = ['STOP SLAVE;', 'RESET SLAVE ALL;', 'SET SESSION sql_log_bin = 0;', 'CREATE DATABASE app;', "SET GLOBAL gtid_slave_pos = '0-1-42';", 'CHANGE MASTER TO', 'START SLAVE;']
      const at = order.map((s) => sql.indexOf(s))
      expect(at.every((i) => i >= 0), sql).to.equal(true)
      expect([...at].sort((a, b) => a - b)).to.deep.equal(at)
      expect(sql).to.include("MASTER_HOST='10.77.0.11', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='repl-pw-123'").and.include('MASTER_USE_GTID=slave_pos')
    })

    it('a replica aimed elsewhere is re-pointed, without a new seed', async () => {
      const c = asChange(plan({ masterHost: '10.77.0.99' }))
      expect(c.summary).to.equal('re-point repl@10.77.0.99:3306 -> repl@10.77.0.11:3306')
      const { ctx, runs } = recordingCtx((_c, stdin) => (stdin.startsWith('SHOW') ? { stdout: 'Slave_IO_Running\tSlave_SQL_Running\nYes\tYes\n' } : {}))
      await c.apply(ctx)
      expect(runs.every((x) => x.host === 'replica')).to.equal(true)
      expect(runs[0]!.stdin).to.match(/^STOP SLAVE;\nCHANGE MASTER TO .*\nSTART SLAVE;\n$/)
      expect(asChange(plan({ usingGtid: 'No' })).summary).to.equal('use GTID slave_pos (was No)')
    })

    it('stopped threads are started; refused credentials are set again', () => {
      expect(asChange(plan({ ioRunning: 'No', sqlRunning: 'No' })).summary).to.equal('start replication (IO thread No, SQL thread No)')
      expect(asChange(plan({ ioRunning: 'Connecting', lastIoErrno: 1045, lastIoError: 'Access denied' })).summary).to.match(/^credentials refused by web-01 \(error 1045\)/)
    })

    it('a SQL thread stopped by an error is for a person to look at', () => {
      expect(() => plan({ sqlRunning: 'No', lastSqlErrno: 1062, lastSqlError: "Duplicate entry '1'" })).to.throw(/error 1062: Duplicate entry/)
    })

    it('waiting for the threads gives up with the IO error', async () => {
      const r2 = mysqlReplica({ primary: { host: 'web-01', address: '10.77.0.11' }, user: 'repl', password: secret('repl-pw-123'), waitMs: 300 })
      const c = asChange(r2.plan({ password: NO_STORED, replica: { ...healthy, ioRunning: 'No', sqlRunning: 'No' } }))
      const status = 'Slave_IO_Running\tSlave_SQL_Running\tLast_IO_Errno\tLast_IO_Error\nConnecting\tYes\t2003\tcannot connect\n'
      const { ctx } = recordingCtx((_c, stdin) => (stdin.startsWith('SHOW') ? { stdout: status } : {}))
      let err: Error | undefined
      await c.apply(ctx).catch((e: Error) => (err = e))
      expect(err?.message).to.match(/did not start within 300 ms.*IO error 2003: cannot connect/)
    })

    it('a replica whose MASTER_DELAY differs is set back, without a new seed', async () => {
      const c = asChange(plan({ sqlDelay: 3600 }))
      expect(c.summary).to.equal('delay 3600s -> 0s')
      const { ctx, runs } = recordingCtx((_c, stdin) => (stdin.startsWith('SHOW') ? { stdout: 'Slave_IO_Running\tSlave_SQL_Running\tSQL_Delay\nYes\tYes\t0\n' } : {}))
      await c.apply(ctx)
      expect(runs[0]!.stdin).to.match(/^STOP SLAVE;\nCHANGE MASTER TO .*MASTER_DELAY=0, MASTER_USE_GTID=slave_pos;\nSTART SLAVE;\n$/)
      expect(predicted(c, mysqlReplicaState())).to.include({ sqlDelay: 0 })
      // asked for, a delay is not drift, nor is the lag it makes
      const delayed = mysqlReplica({ primary: { host: 'web-01', address: '10.77.0.11' }, user: 'repl', password: secret('x'), delaySeconds: 3600 })
      expect(delayed.plan({ password: NO_STORED, replica: { ...healthy, sqlDelay: 3600, secondsBehind: 3620 } }).kind).to.equal('ok')
      expect(asChange(delayed.plan({ password: NO_STORED, replica: { ...healthy, sqlDelay: 0 } })).summary).to.equal('delay 0s -> 3600s')
      // a server without the column (older MySQL) is not drift either
      expect(plan({}).kind).to.equal('ok')
    })

    it('a replica too far behind is drift: apply waits for it to catch up, or fails saying how far behind it still is', async () => {
      expect(plan({ secondsBehind: 60 }).kind).to.equal('ok')
      const c = asChange(plan({ secondsBehind: 120 }))
      expect(c.summary).to.equal('120s behind web-01 (at most 60s): wait for it to catch up')
      const answers = ['Yes\tYes\t90', 'Yes\tYes\t30']
      const { ctx, runs } = recordingCtx((_c, stdin) =>
        stdin.startsWith('SHOW') ? { stdout: `Slave_IO_Running\tSlave_SQL_Running\tSeconds_Behind_Master\n${answers.shift() ?? 'Yes\tYes\t0'}\n` } : {},
      )
      await c.apply(ctx)
      // it only reads: nothing is set, stopped or started
      expect(runs.map((x) => x.stdin)).to.deep.equal(['SHOW SLAVE STATUS;\n', 'SHOW SLAVE STATUS;\n'])
      const slow = mysqlReplica({ primary: { host: 'web-01', address: '10.77.0.11' }, user: 'repl', password: secret('x'), waitMs: 300, maxLagSeconds: 5 })
      const c2 = asChange(slow.plan({ password: NO_STORED, replica: { ...healthy, secondsBehind: 50 } }))
      const behind = recordingCtx((_c, stdin) => (stdin.startsWith('SHOW') ? { stdout: 'Slave_IO_Running\tSlave_SQL_Running\tSeconds_Behind_Master\nYes\tYes\t40\n' } : {}))
      let err: Error | undefined
      await c2.apply(behind.ctx).catch((e: Error) => (err = e))
      expect(err?.message).to.match(/still 40s behind after 300 ms \(at most 5s\)/)
      expect(() => mysqlReplica({ primary: { host: 'web-01', address: '10.77.0.11' }, user: 'repl', password: secret('x'), maxLagSeconds: -1 })).to.throw(/maxLagSeconds must be a whole number/)
      // a replica just started is allowed to be behind: the start succeeded, the next check reports the lag
      const start = asChange(slow.plan({ password: NO_STORED, replica: { ...healthy, ioRunning: 'No', sqlRunning: 'No' } }))
      await start.apply(behind.ctx)
    })

    it('the GTID position is read from the dump header', () => {
      expect(gtidOfDump("--\n-- SET GLOBAL gtid_slave_pos='0-1-7,1-2-3';\n")).to.equal('0-1-7,1-2-3')
      expect(gtidOfDump("-- SET GLOBAL gtid_slave_pos='';\n")).to.equal('')
      expect(() => gtidOfDump('CREATE TABLE t (a int);\n')).to.throw(/no GTID position/)
    })
  })
})

