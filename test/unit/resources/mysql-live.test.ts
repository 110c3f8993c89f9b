import { expect } from 'chai'
import { mysqlGlobals, normalizeSetting } from '../../../src/resources/mysql-globals.ts'
import { mysqlNativeHash, mysqlUser } from '../../../src/resources/mysql.ts'
import { mysqlReplica, passwordSha256 } from '../../../src/resources/mysql-replica.ts'
import { mysqlFact, type MysqlUserInfo } from '../../../src/facts/mysql.ts'
import { restart } from '../../../src/resources/service.ts'
import { secret, maskSecrets } from '../../../src/core/secret.ts'
import type { Change, Resource } from '../../../src/contract/resource.ts'
import { asChange } from './file-family.support.ts'
import type { ApplyContext } from '../../../src/contract/resource.ts'
import { localHostInfo } from '../../../src/engine/apply-context.ts'
import { loadFixture } from '../../support/record-probes.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

/**
 * Issue 15: what the running server does, not only what its files say. The
 * probe outputs are recorded on the lab (test/support/record-mysql-probes.ts):
 * db-03 with read_only turned OFF and binlog_format MIXED by hand and a
 * stored replication password that is not the inventory's; web-01's app
 * account in the middle of a rotation (two passwords accepted).
 */
const FIXTURE = { app: secret('fixture-app-password'), next: secret('fixture-app-password-next'), repl: secret('fixture-repl-password') }
const fixture = (name: string) => loadFixture(mysqlFact, 'mysql', name)
const restartMariadb = restart('mariadb')

/** The replica role's settings, as roles/mysql asks for them on db-03 (server_id 3, its lab address). */
function replicaGlobals(bind: string): Resource {
  return mysqlGlobals({
    settings: { read_only: 'ON', server_id: 3, log_bin: 'ON', bind_address: bind, binlog_format: 'ROW', no_such_setting: 1 },
    restart: restartMariadb,
    file: '60-muster-replication.cnf',
  })
}

/** Apply a change against a recording context: the commands and their stdin, answered by `answer`. */
async function commandsOf(c: Change, answer: (cmd: string, stdin: string) => { stdout?: string } = () => ({})) {
  const ran: { command: string; stdin: string }[] = []
  const ctx: ApplyContext = {
    host: localHostInfo('fake'),
    conn: undefined as never,
    async run(command, opts = {}) {
      const stdin = String(opts.stdin ?? '')
      ran.push({ command, stdin })
      return { code: 0, stdout: answer(command, stdin).stdout ?? '', stderr: '' }
    },
    log: () => {},
    connectTo: async () => {
      throw new Error('no other hosts here')
    },
  }
  await c.apply(ctx)
  return ran
}

function planWith(r: Resource, values: Map<string, unknown>) {
  const observed = Object.fromEntries(Object.entries(r.probe).map(([k, q]) => [k, values.get(q.key)]))
  return r.plan(observed as never)
}

forEachRelease('live state against config (issue 15)', () => {
  describe('mysqlGlobals over recorded probes', () => {
    it('a setting changed with SET GLOBAL is found by name, live and config values both said; apply sets it live, no restart', async () => {
      const f = await fixture('replica-drifted')
      const bind = (f.values.get('variable:bind_address') as { value: string }).value
      const c = asChange(planWith(replicaGlobals(bind), f.values))
      expect(c.summary).to.equal('read_only: live OFF, 60-muster-replication.cnf ON; binlog_format: live MIXED, 60-muster-replication.cnf ROW')
      expect(c.notify ?? [], 'every setting that differs can be set live').to.deep.equal([])
      const cmds = await commandsOf(c)
      expect(cmds.map((x) => x.stdin)).to.deep.equal(["SET GLOBAL read_only = 'ON';\nSET GLOBAL binlog_format = 'ROW';\n"])
      expect(cmds[0]!.command).not.to.include('SET')
    })

    it('the same server as the file says is ok; a name the server does not know is said, not compared', async () => {
      const f = await fixture('replica-healthy')
      const bind = (f.values.get('variable:bind_address') as { value: string }).value
      const r = mysqlGlobals({ settings: { read_only: true, server_id: 2, log_bin: 'ON', bind_address: bind, binlog_format: 'row', no_such_setting: 1 }, restart: restartMariadb })
      const p = planWith(r, f.values)
      expect(p.kind).to.equal('ok')
      expect(p.kind === 'ok' && p.detail).to.equal('5 settings live as in config (not server variables, not compared: no_such_setting)')
    })

    it('a setting SET GLOBAL cannot change queues the restart handler instead (once, the same one the file notifies)', async () => {
      const f = await fixture('replica-drifted')
      const c = asChange(planWith(replicaGlobals('10.0.0.99'), f.values)) as Change
      expect(c.summary).to.include('bind_address: live ').and.include(', 60-muster-replication.cnf 10.0.0.99 (restart)')
      expect(c.notify).to.deep.equal([restartMariadb])
      // bind_address is not in the SET GLOBAL statements
      expect((await commandsOf(c))[0]!.stdin).not.to.include('bind_address')
    })

    it('a server not installed or not running is ok: it starts with the file, which is compared on its own', async () => {
      const f = await fixture('absent')
      const r = mysqlGlobals({ settings: { read_only: 'ON' }, restart: restartMariadb })
      const p = planWith(r, f.values)
      expect(p.kind === 'ok' && p.detail).to.equal("server not installed: it starts with config's settings")
    })

    it('values compare as the server prints them', () => {
      expect(normalizeSetting(true, 'OFF')).to.equal('ON')
      expect(normalizeSetting(1, 'OFF')).to.equal('ON')
      expect(normalizeSetting('64M', '134217728')).to.equal('67108864')
      expect(normalizeSetting('yes', 'ON')).to.equal('ON')
      expect(normalizeSetting('ROW', 'MIXED')).to.equal('ROW')
      expect(() => mysqlGlobals({ settings: { 'bad name': 1 }, restart: restartMariadb })).to.throw(/not a server variable name/)
    })
  })

  describe('a replica\'s stored replication password', () => {
    const replica = mysqlReplica({ primary: { host: 'web-01', address: '10.77.0.11' }, user: 'repl', password: FIXTURE.repl })

    it('is compared by its sha256 made on the host; a different one is set again, on stdin only, and predicted', async () => {
      const f = await fixture('replica-drifted')
      const stored = f.value('replica-password') as { sha256: string }
      expect(stored.sha256).to.match(/^[0-9a-f]{64}$/).and.not.equal(passwordSha256(FIXTURE.repl))
      // the fixture's text never holds a password, only hashes
      expect(f.stdout).not.to.include('fixture-repl-password')
      const c = asChange(replica.plan({ replica: f.value('replica') as never, password: stored as never }))
      expect(c.summary).to.equal('replication password differs from the one stored (master.info): set the new one')
      const [set] = await commandsOf(c, (_cmd, stdin) => (stdin.startsWith('SHOW') ? { stdout: 'Slave_IO_Running\tSlave_SQL_Running\nYes\tYes\n' } : {}))
      expect(set!.command).not.to.include('fixture-repl-password')
      expect(set!.stdin).to.match(/^STOP SLAVE;\nCHANGE MASTER TO .*MASTER_PASSWORD='fixture-repl-password'.*\nSTART SLAVE;\n$/)
      expect(maskSecrets(c.summary)).to.equal(c.summary)
      const after = c.predicts?.find((p) => 'query' in p && p.query.key === 'replica-password')
      expect(after && 'value' in after ? after.value : undefined).to.deep.equal({ server: 'up', sha256: passwordSha256(FIXTURE.repl) })
    })
  })

  describe('an account mid-rotation (two passwords)', () => {
    it('is read with its previous password; keep leaves it, drop retires the previous one', async () => {
      const f = await fixture('primary-rotating')
      const u = f.value('user:app@%') as MysqlUserInfo
      expect(u.authString).to.equal(mysqlNativeHash(FIXTURE.next).reveal())
      expect(u.previousAuthString).to.equal(mysqlNativeHash(FIXTURE.app).reveal())
      const grants = { 'app.*': 'ALL' as const }
      expect(mysqlUser('app', { password: FIXTURE.next, privileges: grants, previousPassword: 'keep' }).plan({ user: u as never }).kind).to.equal('ok')
      const retire = asChange(mysqlUser('app', { password: FIXTURE.next, privileges: grants }).plan({ user: u as never }))
      expect(retire.summary).to.equal('retire the previous password (every copy has the new one)')
      const [cmd] = await commandsOf(retire)
      expect(cmd!.stdin).to.equal(`ALTER USER 'app'@'%' IDENTIFIED BY PASSWORD '${mysqlNativeHash(FIXTURE.next).reveal()}';\n`)
    })

    it('a new password with keep is added beside the current one, by hash: nothing that holds the current one is refused meanwhile', async () => {
      const f = await fixture('primary')
      const u = f.value('user:app@%') as MysqlUserInfo
      const c = asChange(mysqlUser('app', { password: FIXTURE.next, privileges: { 'app.*': 'ALL' }, previousPassword: 'keep' }).plan({ user: u as never }))
      expect(c.summary).to.equal('password: the new one, with the previous one still accepted until it is retired')
      const [cmd] = await commandsOf(c)
      expect(cmd!.stdin).to.equal(
        `ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING '${mysqlNativeHash(FIXTURE.next).reveal()}' OR mysql_native_password USING '${mysqlNativeHash(FIXTURE.app).reveal()}';\n`,
      )
      expect(cmd!.stdin + cmd!.command).not.to.include('fixture-app-password')
      const predicted = c.predicts?.find((p) => 'query' in p)
      expect(predicted && 'value' in predicted ? predicted.value : undefined).to.include({ authString: mysqlNativeHash(FIXTURE.next).reveal(), previousAuthString: mysqlNativeHash(FIXTURE.app).reveal() })
    })
  })
})
