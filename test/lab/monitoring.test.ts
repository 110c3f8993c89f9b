import { expect } from 'chai'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ensureLab, onHost, tcp, waitFor } from '../support/lab.ts'
import { muster, results, explain } from '../support/cli.ts'
import type { LabState } from '../../src/lab/state.ts'

/**
 * The design's last named weak spot, covered: playbooks/monitoring.ts puts
 * Prometheus on db-03 (the `monitoring` group) scraping node-exporter on every
 * host, HAProxy's own exporter and MariaDB's replication state, with alerts.
 * Checked by asking Prometheus itself (promtool on db-03), and by breaking
 * things for real and watching the matching alert fire, then clear once
 * muster has put the fleet back.
 */

const SITE = ['playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const MON = ['playbooks/monitoring.ts', '-i', 'inventory/lab.ts', '--json']
const MINUTE = 60_000

/** Prometheus's answer to an instant query, as `labels => value` lines, asked on db-03 itself (9090 is not open to others). */
async function promql(query: string): Promise<string[]> {
  const out = await onHost('db-03', `promtool query instant http://localhost:9090 '${query}'`)
  return out.split('\n').filter(Boolean).map((l) => l.replace(/ @\[[\d.]+\]$/, ''))
}
const firing = async (): Promise<string[]> =>
  (await promql('ALERTS{alertstate="firing"}')).map((l) => `${/alertname="([^"]+)"/.exec(l)?.[1]} ${/host="([^"]+)"/.exec(l)?.[1] ?? ''} ${/server="([^"]+)"/.exec(l)?.[1] ?? ''}`.trim()).sort()

describe('monitoring: Prometheus watching the stack (playbooks/monitoring.ts)', function () {
  let state: LabState
  const addr = (name: string): string => state.hosts.find((h) => h.name === name)!.address

  before(async function () {
    state = await ensureLab(this)
    this.timeout(6 * MINUTE)
    const site = await muster(['apply', ...SITE], {}, 4 * MINUTE)
    expect(site.code, explain(site)).to.equal(0)
    const mon = await muster(['apply', ...MON], {}, 4 * MINUTE)
    expect(mon.code, explain(mon)).to.equal(0)
  })

  it('a second run changes nothing and the check is clean', async function () {
    this.timeout(MINUTE)
    const again = await muster(['apply', ...MON])
    expect(again.code, explain(again)).to.equal(0)
    expect(results(again).filter((e) => e.status === 'changed')).to.deep.equal([])
    const check = await muster(['check', ...MON])
    expect(check.code, explain(check)).to.equal(0)
  })

  it('every target is up: node-exporter on all four hosts, HAProxy, Prometheus itself', async function () {
    this.timeout(MINUTE)
    const up = await waitFor('every target up', 30_000, async () => {
      const lines = await promql('up')
      return lines.length === 6 && lines.every((l) => l.endsWith('=> 1')) ? lines : undefined
    })
    expect(up.map((l) => /job="([^"]+)"/.exec(l)![1] + ' ' + (/host="([^"]+)"/.exec(l)?.[1] ?? '')).sort()).to.deep.equal([
      'haproxy lb-01', 'node db-03', 'node lb-01', 'node web-01', 'node web-02', 'prometheus ',
    ])
  })

  it('sees what the stack is doing: both web hosts in rotation, both replicas running at 0 lag, no alert firing', async function () {
    this.timeout(MINUTE)
    expect(await promql('haproxy_server_status{proxy="web",state="UP"}')).to.have.length(2).and.satisfy((l: string[]) => l.every((x) => x.endsWith('=> 1')))
    const replicas = await waitFor('replication metrics', 30_000, async () => {
      const l = await promql('mysql_replica_sql_running + mysql_replica_io_running')
      return l.length === 2 ? l : undefined
    })
    expect(replicas.map((l) => /host="([^"]+)"/.exec(l)![1] + ' ' + l.split('=> ')[1]).sort()).to.deep.equal(['db-03 2', 'web-02 2'])
    expect((await promql('mysql_replica_lag_seconds')).map((l) => l.split('=> ')[1])).to.deep.equal(['0', '0'])
    expect(await firing()).to.deep.equal([])
  })

  it('breakage fires the matching alerts within seconds, and they clear once muster puts the fleet back', async function () {
    this.timeout(3 * MINUTE)
    await onHost('db-03', "mariadb -e 'STOP SLAVE'")
    await onHost('web-02', 'systemctl stop app')
    await onHost('lb-01', 'systemctl stop prometheus-node-exporter')
    const want = ['HostDown lb-01', 'ReplicationStopped db-03', 'WebBackendDown lb-01 web-02']
    const fired = await waitFor('the three alerts firing', 60_000, async () => {
      const f = await firing()
      return want.every((w) => f.includes(w)) ? f : undefined
    }, 1000)
    expect(fired).to.deep.equal(want)

    // the drift is muster's to fix: site.ts restarts replication and the app, monitoring.ts the exporter
    const site = await muster(['apply', ...SITE])
    expect(site.code, explain(site)).to.equal(0)
    const mon = await muster(['apply', ...MON])
    expect(mon.code, explain(mon)).to.equal(0)
    expect(results(mon).filter((e) => e.status === 'changed').map((e) => `${e.host} ${e.resource}`)).to.deep.equal(['lb-01 service:prometheus-node-exporter.service'])
    await waitFor('no alert firing', 60_000, async () => ((await firing()).length === 0 ? true : undefined), 1000)
  })

  it('backups: BackupTooOld fires when the last success is over 26 h old, BackupFailed when the last run failed; both clear', async function () {
    this.timeout(2 * MINUTE)
    // the metric playbooks/backups.ts leaves, as a run 27 h ago would have left it
    const prom = '/var/lib/prometheus/node-exporter/mysql_backup.prom'
    const write = (age: number, lastRun = 1): Promise<string> =>
      onHost('db-03', `printf 'mysql_backup_last_success_timestamp_seconds %s\\nmysql_backup_last_run_success ${lastRun}\\n' $(( $(date +%s) - ${age} )) > ${prom}.tmp && mv ${prom}.tmp ${prom}`)
    const saved = await onHost('db-03', `cat ${prom} 2>/dev/null || true`)
    try {
      await write(27 * 3600)
      await waitFor('BackupTooOld firing', 60_000, async () => ((await firing()).includes('BackupTooOld db-03') ? true : undefined), 1000)
      await write(60, 0)
      await waitFor('BackupFailed alone', 60_000, async () => ((await firing()).join() === 'BackupFailed db-03' ? true : undefined), 1000)
      await write(60)
      await waitFor('no alert firing', 60_000, async () => ((await firing()).length === 0 ? true : undefined), 1000)
    } finally {
      await onHost('db-03', saved ? `printf '%s\\n' '${saved.replace(/\n/g, "' '")}' > ${prom}` : `rm -f ${prom}`)
    }
  })

  it('with alertWebhooks, Alertmanager (loopback only) posts an alert to the webhook when it fires, and again when it is resolved', async function () {
    this.timeout(4 * MINUTE)
    // the webhook: a listener on the controller's side of the lab bridge, which db-03 can reach
    const got: { status: string; alerts: { labels: Record<string, string>; status: string }[] }[] = []
    const hook = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        try {
          got.push(JSON.parse(body) as (typeof got)[number])
        } catch {
          // not a notification
        }
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((r) => hook.listen(0, state.bridge.address, r))
    const url = `http://${state.bridge.address}:${(hook.address() as AddressInfo).port}/hook`
    const WITH = [...MON, '-e', `alertWebhooks=${JSON.stringify([url])}`, '-e', 'alertGroupWait=1s', '-e', 'alertGroupInterval=5s']
    try {
      const on = await muster(['apply', ...WITH], {}, 3 * MINUTE)
      expect(on.code, explain(on)).to.equal(0)
      expect(await onHost('db-03', 'systemctl is-active prometheus-alertmanager')).to.equal('active')
      // restarted by the play's handler just now: listening a moment later
      const listen = await waitFor('Alertmanager listening', 20_000, async () => (await onHost('db-03', "ss -Hltn | awk '{print $4}' | grep ':9093$' || true")) || undefined, 250)
      expect(listen).to.equal('127.0.0.1:9093')
      expect(await onHost('db-03', 'ss -Hltn | grep -c ":9094" || true')).to.equal('0') // no cluster gossip port
      expect(await onHost('db-03', "stat -c '%a %U:%G' /etc/prometheus/alertmanager.yml")).to.equal('640 root:prometheus')
      const again = await muster(['apply', ...WITH])
      expect(results(again).filter((e) => e.status === 'changed'), explain(again)).to.deep.equal([])

      await onHost('web-02', 'systemctl stop app')
      const firing = await waitFor('WebBackendDown posted to the webhook', 90_000, async () =>
        got.find((n) => n.status === 'firing' && n.alerts.some((a) => a.labels.alertname === 'WebBackendDown' && a.labels.server === 'web-02')), 1000)
      expect(firing.alerts[0]!.labels).to.include({ alertname: 'WebBackendDown', severity: 'warning' })
      const site = await muster(['apply', ...SITE])
      expect(site.code, explain(site)).to.equal(0)
      await waitFor('the resolution posted too', 90_000, async () =>
        got.find((n) => n.status === 'resolved' && n.alerts.some((a) => a.labels.alertname === 'WebBackendDown')), 1000)
    } finally {
      hook.closeAllConnections()
      await new Promise((r) => hook.close(r))
      // back to the stack's monitoring without a webhook: Prometheus stops sending to Alertmanager
      const off = await muster(['apply', ...MON])
      expect(off.code, explain(off)).to.equal(0)
    }
  })

  it('the scrape ports answer the monitoring host only; Prometheus itself is not reachable from outside', async function () {
    this.timeout(MINUTE)
    const matrix: [string, string, number, 'open' | 'dropped'][] = [
      ['db-03', 'web-01', 9100, 'open'],
      ['lb-01', 'web-01', 9100, 'dropped'],
      ['db-03', 'lb-01', 8405, 'open'],
      ['web-01', 'lb-01', 8405, 'dropped'],
      ['web-01', 'db-03', 9090, 'dropped'],
    ]
    const got = await Promise.all(matrix.map(async ([f, t, p]) => `${f} -> ${t}:${p} ${await tcp(f, addr(t), p)}`))
    expect(got).to.deep.equal(matrix.map(([f, t, p, w]) => `${f} -> ${t}:${p} ${w}`))
  })
})
