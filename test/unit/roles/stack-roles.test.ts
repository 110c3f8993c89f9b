import { expect } from 'chai'
import site from '../../../playbooks/site.ts'
import backups from '../../../playbooks/backups.ts'
import monitoring from '../../../playbooks/monitoring.ts'
import { buildInventory } from '../../../src/inventory/build.ts'
import { fromSpec } from '../../../src/inventory/typescript.ts'
import { secret } from '../../../src/core/secret.ts'
import { expandPlaybook, musterFile } from '../../../bench/ansible/muster-files.ts'

/**
 * The reference stack's roles as pure functions of the inventory: what each
 * host's firewall admits, what keepalived and HAProxy are told, rendered
 * without a host (the lab tests check the same things on real ones).
 */

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n'
const KEY = secret('-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49unit-test-key\n-----END PRIVATE KEY-----\n')

function inventory(opts: { balancers: string[]; vip?: string; tls?: boolean | 'certificate only'; monitoring?: boolean; backup?: Record<string, unknown>; monitoringVars?: Record<string, unknown> }) {
  const addr: Record<string, string> = { 'web-01': '10.0.0.11', 'web-02': '10.0.0.12', 'lb-01': '10.0.0.13', 'db-03': '10.0.0.14', 'lb-02': '10.0.0.15' }
  const hosts = ['web-01', 'web-02', ...opts.balancers, 'db-03']
  return buildInventory(
    fromSpec(
      {
        vars: { dbAppPassword: secret('app-pw-unit'), dbReplPassword: secret('repl-pw-unit'), haproxyMetricsPort: 8405 },
        groups: {
          web: { hosts: ['web-01', 'web-02'] },
          lb: { hosts: opts.balancers, vars: { ...(opts.tls === true ? { tlsCertificate: CERT, tlsKey: KEY } : opts.tls ? { tlsCertificate: CERT } : {}), ...(opts.vip ? { lbVip: opts.vip } : {}) } },
          db: { children: ['db_primary', 'db_replicas'] },
          db_primary: { hosts: ['web-01'] },
          db_replicas: { hosts: ['web-02', 'db-03'] },
          ...(opts.monitoring ? { monitoring: { hosts: ['db-03'], vars: opts.monitoringVars ?? {} } } : {}),
          db_backup: { hosts: ['db-03'], vars: opts.backup ?? {} },
        },
        hosts: Object.fromEntries(hosts.map((h, i) => [h, { address: addr[h], vars: h.startsWith('web') || h === 'db-03' ? { mysqlServerId: i + 1 } : {} }])),
      },
      'unit-inventory.ts',
    ),
  )
}

async function text(inv: ReturnType<typeof inventory>, host: string, id: string): Promise<string> {
  return (await musterFile(expandPlaybook(site, inv), host, id)).content.toString('utf8')
}
const rules = async (inv: ReturnType<typeof inventory>, host: string): Promise<string[]> =>
  (await text(inv, host, 'file:/etc/nftables.conf')).split('\n').filter((l) => l.includes(' accept') && l.includes('dport') || l.includes('vrrp')).map((l) => l.trim())

describe('reference stack roles, rendered from the inventory', () => {
  it('firewall: each host admits what its roles serve, from the hosts that use it', async () => {
    const inv = inventory({ balancers: ['lb-01'], tls: true, monitoring: true })
    expect(await rules(inv, 'web-01')).to.deep.equal([
      'tcp dport 22 accept comment "ssh"',
      'ip saddr { 10.0.0.13 } tcp dport 80 accept comment "http from the load balancers"',
      'ip saddr { 10.0.0.12, 10.0.0.14 } tcp dport 3306 accept comment "mysql from the app and the replicas"',
      'ip saddr { 10.0.0.14 } tcp dport 9100 accept comment "node-exporter scrapes"',
    ])
    expect(await rules(inv, 'db-03')).to.deep.equal(['tcp dport 22 accept comment "ssh"', 'ip saddr { 10.0.0.14 } tcp dport 9100 accept comment "node-exporter scrapes"'])
    expect(await rules(inv, 'lb-01')).to.deep.equal([
      'tcp dport 22 accept comment "ssh"',
      'tcp dport 80 accept comment "http"',
      'tcp dport 443 accept comment "https"',
      'ip saddr { 10.0.0.14 } tcp dport 9100 accept comment "node-exporter scrapes"',
      'ip saddr { 10.0.0.14 } tcp dport 8405 accept comment "haproxy metrics scrapes"',
    ])
    // no monitoring group, no TLS: no scrape ports, no 443
    const bare = inventory({ balancers: ['lb-01'] })
    expect(await rules(bare, 'lb-01')).to.deep.equal(['tcp dport 22 accept comment "ssh"', 'tcp dport 80 accept comment "http"'])
  })

  it('two balancers and a VIP: keepalived on both, priorities by group order, each the other\'s only peer, VRRP admitted from it', async () => {
    const inv = inventory({ balancers: ['lb-01', 'lb-02'], vip: '10.0.0.100/24', tls: true })
    const one = await text(inv, 'lb-01', 'template:/etc/keepalived/keepalived.conf')
    const two = await text(inv, 'lb-02', 'template:/etc/keepalived/keepalived.conf')
    expect(one).to.include('priority 150').and.include('unicast_src_ip 10.0.0.13').and.match(/unicast_peer \{\n\s+10\.0\.0\.15\n\s+\}/)
    expect(two).to.include('priority 140').and.include('unicast_src_ip 10.0.0.15').and.match(/unicast_peer \{\n\s+10\.0\.0\.13\n\s+\}/)
    for (const c of [one, two]) expect(c).to.include('10.0.0.100/24 dev eth0').and.include('script "/usr/bin/systemctl is-active --quiet haproxy.service"')
    expect(await rules(inv, 'lb-02')).to.include('ip saddr { 10.0.0.13 } ip protocol vrrp accept comment "vrrp from the other balancers"')
    // the web hosts admit both balancers
    expect(await rules(inv, 'web-02')).to.include('ip saddr { 10.0.0.13, 10.0.0.15 } tcp dport 80 accept comment "http from the load balancers"')
    // one balancer: no keepalived at all, even with a VIP set
    const single = expandPlaybook(site, inventory({ balancers: ['lb-01'], vip: '10.0.0.100/24' }))
    expect(single.get('lb-01')!.resources.map((r) => r.id).filter((id) => id.includes('keepalived'))).to.deep.equal([])
  })

  it('haproxy: TLS only with a certificate and key, the key only in a secret file, metrics frontend when asked', async () => {
    const withTls = inventory({ balancers: ['lb-01'], tls: true })
    const cfg = await text(withTls, 'lb-01', 'template:/etc/haproxy/haproxy.cfg')
    expect(cfg).to.include('bind :443 ssl crt /etc/haproxy/tls/site.pem alpn h2,http/1.1').and.include('redirect scheme https code 301 unless { ssl_fc }')
    expect(cfg).to.include('frontend metrics\n    bind :8405\n    http-request use-service prometheus-exporter if { path /metrics }')
    const pem = await musterFile(expandPlaybook(site, withTls), 'lb-01', 'file:/etc/haproxy/tls/site.pem')
    expect(pem.mode).to.equal('0600')
    expect(pem.content.toString()).to.equal(`${CERT.trimEnd()}\n${KEY.reveal().trimEnd()}\n`)
    const plain = await text(inventory({ balancers: ['lb-01'] }), 'lb-01', 'template:/etc/haproxy/haproxy.cfg')
    expect(plain).not.to.include(':443').and.not.to.include('redirect')
    // half a pair is refused, naming the host
    const half = inventory({ balancers: ['lb-01'], tls: 'certificate only' })
    expect(() => expandPlaybook(site, half)).to.throw(/haproxy on lb-01: tlsKey \(a Secret\) is missing while tlsCertificate is set/)
  })

  it('alerting: Alertmanager only when alertWebhooks says where, a token-bearing URL kept 0640, Prometheus pointed at it', async () => {
    const hook = secret('https://hooks.example.org/services/T000/B000/unit-test-token')
    const inv = inventory({ balancers: ['lb-01'], monitoring: true, monitoringVars: { alertWebhooks: [hook, 'http://10.0.0.50:8080/alerts'] } })
    const expanded = expandPlaybook(monitoring, inv)
    const am = await musterFile(expanded, 'db-03', 'template:/etc/prometheus/alertmanager.yml')
    expect(am.mode).to.equal('0640')
    expect(am.content.toString()).to.include(`- url: '${hook.reveal()}'`).and.include("- url: 'http://10.0.0.50:8080/alerts'").and.include('send_resolved: true')
    expect((await musterFile(expanded, 'db-03', 'file:/etc/default/prometheus-alertmanager')).content.toString()).to.include('--web.listen-address=127.0.0.1:9093 --cluster.listen-address=')
    expect((await musterFile(expanded, 'db-03', 'template:/etc/prometheus/prometheus.yml')).content.toString()).to.include("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:9093']")
    // none: no Alertmanager, and Prometheus sends nowhere
    const quiet = expandPlaybook(monitoring, inventory({ balancers: ['lb-01'], monitoring: true }))
    expect(quiet.get('db-03')!.resources.map((r) => r.id).filter((id) => id.includes('alertmanager'))).to.deep.equal([])
    expect((await musterFile(quiet, 'db-03', 'template:/etc/prometheus/prometheus.yml')).content.toString()).to.not.include('alerting:')
    expect(() => expandPlaybook(monitoring, inventory({ balancers: ['lb-01'], monitoring: true, monitoringVars: { alertWebhooks: ['ftp://x'] } }))).to.throw(/alertWebhooks: each must be an http\(s\) URL/)
  })

  it('backups: only on db_backup hosts, a root-only directory, the schedule and retention the vars give', async () => {
    const inv = inventory({ balancers: ['lb-01'], backup: { mysqlBackupKeep: 3, mysqlBackupSchedule: '*-*-* 02:30:00' } })
    const expanded = expandPlaybook(backups, inv)
    expect([...expanded.keys()]).to.deep.equal(['db-03'])
    const ids = expanded.get('db-03')!.resources.map((r) => r.id)
    expect(ids).to.include.members(['directory:/var/backups/mysql', 'file:/usr/local/lib/muster/mysql-backup', 'service:mysql-backup.timer'])
    const unit = (await musterFile(expanded, 'db-03', 'systemd-unit-file:/etc/systemd/system/mysql-backup.service')).content.toString()
    expect(unit).to.include('Environment="MUSTER_BACKUP_DIR=/var/backups/mysql" "MUSTER_BACKUP_KEEP=3"').and.include('TimeoutStartSec=6h')
    const timer = (await musterFile(expanded, 'db-03', 'systemd-unit-file:/etc/systemd/system/mysql-backup.timer')).content.toString()
    expect(timer).to.include('OnCalendar=*-*-* 02:30:00').and.include('Persistent=true')
    expect(() => expandPlaybook(backups, inventory({ balancers: ['lb-01'], backup: { mysqlBackupKeep: 0 } }))).to.throw(/mysqlBackupKeep must be a whole number of runs >= 1, got 0/)
    // the directory goes to a script that deletes old runs in it: nothing a shell or systemd could split
    expect(() => expandPlaybook(backups, inventory({ balancers: ['lb-01'], backup: { mysqlBackupDir: '/srv/my backups' } }))).to.throw(/mysqlBackupDir must be an absolute path/)
    expect(() => expandPlaybook(backups, inventory({ balancers: ['lb-01'], backup: { mysqlBackupDir: '/srv/../etc' } }))).to.throw(/mysqlBackupDir must be an absolute path/)
  })
})
