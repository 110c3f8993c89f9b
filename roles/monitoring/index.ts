// Monitoring for the reference stack: Prometheus on the `monitoring` group
// scrapes node-exporter on every host, HAProxy's own exporter on the load
// balancers, and MariaDB's replication state (a textfile metric written every
// few seconds on each database server), with alerts for what breaks the site:
// a host or the balancer down, a web host out of rotation, replication stopped
// or lagging, stale metrics, a full disk. The firewall (roles/firewall) admits
// the scrapes from the monitoring hosts only; Prometheus's own UI listens on
// every address but the firewall keeps it local: reach it with
// `ssh -L 9090:localhost:9090 <monitoring host>`.
import { readFileSync } from 'node:fs'
import { role, apt, directory, file, template, service, reload, restart, systemdUnitFile, isSecret, type HostContext, type HostInfo, type Secret } from 'muster'
import { privateAddress } from '../mysql/index.ts'

export const NODE_EXPORTER_PORT = 9100
export const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter'
const SCRIPT = '/usr/local/lib/muster/mysql-replication-metrics'
const RULES = '/etc/prometheus/muster-alerts.yml'

/** Where each host's exporters are reached from the monitoring hosts. */
const target = (h: HostInfo) => ({ name: h.name, address: privateAddress(h) })

/** node-exporter on every host (without the recommended python collectors: one Go binary). */
export const nodeExporter = role('node-exporter', () => [
  apt(['prometheus-node-exporter'], { installRecommends: false }),
  directory(TEXTFILE_DIR, { mode: '0755' }),
  service('prometheus-node-exporter', { running: true, enabled: true }),
])

/** MariaDB's replication state as metrics, refreshed by a systemd timer; root reads it over the socket, no password. */
export const replicationMetrics = role('replication-metrics', (ctx) => {
  const every = (ctx.vars.replicationMetricsEvery as string | undefined) ?? '10s'
  const restartTimer = restart('mysql-replication-metrics.timer')
  return [
    directory('/usr/local/lib/muster', { mode: '0755', owner: 'root', group: 'root' }),
    file(SCRIPT, { content: readFileSync(new URL('./files/mysql-replication-metrics.sh', import.meta.url)), mode: '0755', owner: 'root', group: 'root' }),
    systemdUnitFile('mysql-replication-metrics.service', {
      source: new URL('./templates/mysql-replication-metrics.service.ejs', import.meta.url),
      vars: { host: ctx.name, script: SCRIPT },
    }),
    systemdUnitFile('mysql-replication-metrics.timer', {
      source: new URL('./templates/mysql-replication-metrics.timer.ejs', import.meta.url),
      vars: { host: ctx.name, every },
      notify: restartTimer,
    }),
    service('mysql-replication-metrics.timer', { running: true, enabled: true }),
  ]
})

/** Prometheus with the stack's scrape targets and alert rules, each file checked by promtool before it goes live. */
export const prometheus = role('prometheus', (ctx) => {
  const reloadPrometheus = reload('prometheus')
  const haproxyPort = ctx.vars.haproxyMetricsPort as number | undefined
  return [
    apt(['prometheus'], { installRecommends: false }),
    // rules first: `promtool check config` opens the rule files the config names
    template(RULES, {
      source: new URL('./templates/alerts.yml.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        alertFor: (ctx.vars.alertFor as string | undefined) ?? '2m',
        maxLagSeconds: (ctx.vars.alertMaxLagSeconds as number | undefined) ?? 30,
        // playbooks/backups.ts runs daily: a day and two hours without a whole backup is an alert
        backupMaxAgeSeconds: (ctx.vars.alertBackupMaxAgeSeconds as number | undefined) ?? 26 * 3600,
        backupHosts: ctx.hostsOf('db_backup').map((h) => h.name),
      },
      mode: '0644',
      validate: 'promtool check rules %s',
      notify: reloadPrometheus,
    }),
    template('/etc/prometheus/prometheus.yml', {
      source: new URL('./templates/prometheus.yml.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        scrapeInterval: (ctx.vars.scrapeInterval as string | undefined) ?? '15s',
        rulesFile: RULES,
        nodes: ctx.hostsOf('all').map(target),
        haproxy: haproxyPort ? ctx.hostsOf('lb').map((h) => ({ ...target(h), port: haproxyPort })) : [],
        // the alertmanager role runs beside Prometheus when there is somewhere to send alerts
        alertmanagers: webhooksOf(ctx).length ? [`127.0.0.1:${ALERTMANAGER_PORT}`] : [],
      },
      mode: '0644',
      validate: 'promtool check config %s',
      notify: reloadPrometheus,
    }),
    service('prometheus', { running: true, enabled: true }),
  ]
})

export const ALERTMANAGER_PORT = 9093

/** `alertWebhooks`: where alerts go (URLs; a Secret when the URL carries a token, as chat webhooks do). */
function webhooksOf(ctx: HostContext): (string | Secret)[] {
  const v = ctx.vars.alertWebhooks
  if (v === undefined) return []
  const list = Array.isArray(v) ? v : [v]
  for (const u of list) {
    const text = isSecret(u) ? u.reveal() : u
    if (typeof text !== 'string' || !/^https?:\/\/[^\s']+$/.test(text)) throw new Error(`alertWebhooks: each must be an http(s) URL (a string or a Secret), got ${isSecret(u) ? 'a secret that is not one' : JSON.stringify(u)}`)
  }
  return list as (string | Secret)[]
}

/**
 * Alertmanager beside Prometheus, sending every alert (and its resolution) to
 * the `alertWebhooks`; nothing at all when there are none. It listens on
 * loopback only, without clustering. Vars: `alertGroupWait` (10s),
 * `alertGroupInterval` (1m), `alertRepeatInterval` (4h).
 */
export const alertmanager = role('alertmanager', (ctx) => {
  const webhooks = webhooksOf(ctx)
  if (webhooks.length === 0) return []
  const restartAm = restart('prometheus-alertmanager')
  return [
    // before the package, so its first start already listens on loopback only, unclustered
    file('/etc/default/prometheus-alertmanager', {
      content: `# Managed by muster (roles/monitoring): loopback only (Prometheus is on this host), no cluster gossip.\nARGS="--web.listen-address=127.0.0.1:${ALERTMANAGER_PORT} --cluster.listen-address="\n`,
      mode: '0644',
      notify: restartAm,
    }),
    apt(['prometheus-alertmanager'], { installRecommends: false }),
    template('/etc/prometheus/alertmanager.yml', {
      source: new URL('./templates/alertmanager.yml.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        webhooks,
        groupWait: (ctx.vars.alertGroupWait as string | undefined) ?? '10s',
        groupInterval: (ctx.vars.alertGroupInterval as string | undefined) ?? '1m',
        repeatInterval: (ctx.vars.alertRepeatInterval as string | undefined) ?? '4h',
      },
      // a webhook URL may carry a token: readable by the service's user only
      mode: '0640',
      owner: 'root',
      group: 'prometheus',
      validate: 'amtool check-config %s',
      notify: restartAm,
    }),
    service('prometheus-alertmanager', { running: true, enabled: true }),
  ]
})
