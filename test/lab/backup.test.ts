import { expect } from 'chai'
import { ensureLab, onHost, waitFor } from '../support/lab.ts'
import { muster, explain } from '../support/cli.ts'
import { BACKUP_SCRIPT } from '../../roles/mysql/backup.ts'

/**
 * playbooks/backups.ts on the lab: dumps on db-03 (a replica), and the proof
 * that matters, a restore: rows written on the primary come back from the
 * dump into a scratch database, row for row.
 */

const SITE = ['playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const BACKUPS = ['playbooks/backups.ts', '-i', 'inventory/lab.ts', '--json']
const MINUTE = 60_000
const DIR = '/var/backups/mysql'

const runs = async (): Promise<string[]> => (await onHost('db-03', `ls -1 ${DIR}`)).split('\n').filter(Boolean)

describe('backups: playbooks/backups.ts dumps each database on a replica, and a dump restores', function () {
  this.timeout(6 * MINUTE)

  before(async function () {
    await ensureLab(this)
    const site = await muster(['apply', ...SITE], {}, 4 * MINUTE)
    expect(site.code, explain(site)).to.equal(0)
    // a table of our own on the primary, replicated to db-03 before the dump
    await onHost('web-01', "mariadb app -e 'CREATE TABLE IF NOT EXISTS backup_probe (id INT PRIMARY KEY, note VARCHAR(64)); REPLACE INTO backup_probe VALUES (1, \"first\"), (2, \"second\"), (3, \"third\")'")
    await waitFor('the probe rows on db-03', 20_000, async () => ((await onHost('db-03', "mariadb -NB -e 'SELECT COUNT(*) FROM app.backup_probe'")) === '3' ? true : undefined), 200)
    await onHost('db-03', `rm -rf ${DIR}/* ${DIR}/.partial-* 2>/dev/null; true`)
  })
  after(async function () {
    await onHost('web-01', "mariadb app -e 'DROP TABLE IF EXISTS backup_probe'").catch(() => undefined)
    await onHost('db-03', "mariadb -e 'SET SESSION sql_log_bin = 0; DROP DATABASE IF EXISTS restore_check'").catch(() => undefined)
  })

  it('installs the timer (enabled, waiting), a root-only directory, and a second run changes nothing', async function () {
    const first = await muster(['apply', ...BACKUPS], {}, 2 * MINUTE)
    expect(first.code, explain(first)).to.equal(0)
    expect(await onHost('db-03', 'systemctl is-enabled mysql-backup.timer && systemctl is-active mysql-backup.timer')).to.equal('enabled\nactive')
    expect(await onHost('db-03', `stat -c '%a %U' ${DIR}`)).to.equal('700 root')
    expect(await onHost('web-01', 'systemctl list-unit-files mysql-backup.timer --no-legend | wc -l')).to.equal('0') // the primary does not pay for it
    const second = await muster(['apply', ...BACKUPS], {}, 2 * MINUTE)
    expect(second.recap!.hosts['db-03']!.changed, explain(second)).to.equal(0)
    expect((await muster(['check', 'playbooks/backups.ts', '-i', 'inventory/lab.ts'])).code).to.equal(0)
  })

  it('a run writes one gzip dump per database, and the dump restores into a scratch database row for row', async function () {
    // node-exporter's textfile directory (monitoring.ts makes it): the run leaves its metric there
    await onHost('db-03', 'mkdir -p /var/lib/prometheus/node-exporter && rm -f /var/lib/prometheus/node-exporter/mysql_backup.prom')
    const before = Number(await onHost('db-03', 'date +%s'))
    await onHost('db-03', 'systemctl start mysql-backup.service')
    const [run] = await runs()
    expect(run).to.match(/^\d{8}T\d{6}Z$/)
    expect((await onHost('db-03', `ls -1 ${DIR}/${run}`)).split('\n')).to.include('app.sql.gz')
    expect(await onHost('db-03', `stat -c '%a' ${DIR}/${run}/app.sql.gz`)).to.equal('600')
    // restore beside the live data, unlogged so nothing reaches the binary log of a replica
    await onHost('db-03', `{ echo 'SET SESSION sql_log_bin = 0;'; echo 'CREATE DATABASE restore_check;'; echo 'USE restore_check;'; zcat ${DIR}/${run}/app.sql.gz; } | mariadb`)
    const restored = await onHost('db-03', "mariadb -NB -e 'SELECT id, note FROM restore_check.backup_probe ORDER BY id'")
    expect(restored).to.equal('1\tfirst\n2\tsecond\n3\tthird')
    // the app's own tables came back with the same number of rows as the live ones
    const tables = (await onHost('db-03', "mariadb -NB -e 'SHOW TABLES FROM app'")).split('\n').filter(Boolean)
    for (const t of tables) {
      const live = await onHost('db-03', `mariadb -NB -e 'SELECT COUNT(*) FROM app.\`${t}\`'`)
      expect(await onHost('db-03', `mariadb -NB -e 'SELECT COUNT(*) FROM restore_check.\`${t}\`'`), t).to.equal(live)
    }
    // replication did not notice
    expect(await onHost('db-03', "mariadb -e 'SHOW SLAVE STATUS\\G' | grep -E 'Slave_(IO|SQL)_Running:' | awk '{print $2}' | tr '\\n' ' '")).to.equal('Yes Yes')
    // and the metric the BackupTooOld alert reads
    const metric = await onHost('db-03', 'cat /var/lib/prometheus/node-exporter/mysql_backup.prom')
    const stamp = Number(/^mysql_backup_last_success_timestamp_seconds (\d+)$/m.exec(metric)?.[1])
    expect(stamp, metric).to.be.within(before, before + 60)
    expect(metric).to.match(/^mysql_backup_last_bytes [1-9]\d*$/m)
  })

  it('keeps the newest mysqlBackupKeep runs; runs at once each get their own; a failed run leaves nothing and says so', async function () {
    const two = await muster(['apply', ...BACKUPS, '-e', 'mysqlBackupKeep=2'], {}, 2 * MINUTE)
    expect(two.code, explain(two)).to.equal(0)
    for (let i = 0; i < 3; i++) await onHost('db-03', 'systemctl start mysql-backup.service')
    expect(await runs()).to.have.length(2)
    // two runs started together (the timer and a hand): one waits for the other, neither lands inside the other
    await onHost('db-03', `export MUSTER_BACKUP_KEEP=5; ${BACKUP_SCRIPT} & ${BACKUP_SCRIPT} & wait`)
    const kept = await runs()
    expect(kept).to.have.length(4)
    for (const r of kept) expect(await onHost('db-03', `find ${DIR}/${r} -mindepth 1 -type d | wc -l`), r).to.equal('0')
    // a server that is down: the run fails, nothing half-written is left, the metric says the run failed
    const prom = '/var/lib/prometheus/node-exporter/mysql_backup.prom'
    const lastSuccess = await onHost('db-03', `sed -n 's/^mysql_backup_last_success_timestamp_seconds //p' ${prom}`)
    await onHost('db-03', 'systemctl stop mariadb')
    try {
      const r = await onHost('db-03', 'systemctl start mysql-backup.service; echo "exit $?"')
      expect(r).to.match(/exit [1-9]/)
      expect(await runs()).to.deep.equal(kept)
      expect(await onHost('db-03', `ls -a ${DIR} | grep -c partial || true`)).to.equal('0')
      const metric = await onHost('db-03', `cat ${prom}`)
      expect(metric).to.match(/^mysql_backup_last_run_success 0$/m)
      expect(metric).to.include(`mysql_backup_last_success_timestamp_seconds ${lastSuccess}`)
    } finally {
      await onHost('db-03', 'systemctl start mariadb')
    }
    const back = await muster(['apply', ...BACKUPS], {}, 2 * MINUTE)
    expect(back.code, explain(back)).to.equal(0)
    await onHost('db-03', 'systemctl start mysql-backup.service')
    expect(await onHost('db-03', `cat ${prom}`)).to.match(/^mysql_backup_last_run_success 1$/m)
  })
})
