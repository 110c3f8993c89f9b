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
import { role, roleVar, varKinds, apt, directory, file, template, service, reload, restart, systemdUnitFile, isSecret, type HostInfo, type Secret } from 'muster'
import { privateAddress } from '../mysql/index.ts'
import { haproxyVars } from '../haproxy/index.ts'

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
export const replicationMetrics = role('replication-metrics', {
  vars: { replicationMetricsEvery: roleVar.string({ default: '10s', description: 'how often the replication metrics are written (systemd OnUnitActiveSec)' }) },
  description: 'MariaDB\'s replication state as node-exporter textfile metrics',
}, (ctx) => {
  const every = ctx.vars.replicationMetricsEvery
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

/** Where alerts go: URLs, a Secret when the URL carries a token (as chat webhooks do). */
const alertWebhooks = roleVar.of(varKinds.list(varKinds.either(varKinds.string, varKinds.secret)), {
  default: [],
  description: 'where Alertmanager posts alerts: http(s) URLs, a Secret when one carries a token; none: no Alertmanager',
})

export const prometheusVars = {
  haproxyMetricsPort: haproxyVars.haproxyMetricsPort,
  alertFor: roleVar.string({ default: '2m', description: 'how long a condition holds before its alert fires' }),
  alertMaxLagSeconds: roleVar.integer({ default: 30, description: 'replication lag that is an alert' }),
  alertBackupMaxAgeSeconds: roleVar.integer({ default: 26 * 3600, description: 'time without a whole backup that is an alert' }),
  scrapeInterval: roleVar.string({ default: '15s', description: 'how often Prometheus scrapes' }),
  backupGroup: roleVar.string({ default: 'db_backup', description: 'the inventory group of the backup hosts' }),
  lbGroup: roleVar.string({ default: 'lb', description: 'the inventory group of the balancers' }),
  alertWebhooks,
}

/** Prometheus with the stack's scrape targets and alert rules, each file checked by promtool before it goes live. */
export const prometheus = role('prometheus', { vars: prometheusVars, description: 'Prometheus: the stack\'s scrape targets and alert rules' }, (ctx) => {
  const reloadPrometheus = reload('prometheus')
  const haproxyPort = ctx.vars.haproxyMetricsPort
  return [
    apt(['prometheus'], { installRecommends: false }),
    // rules first: `promtool check config` opens the rule files the config names
    template(RULES, {
      source: new URL('./templates/alerts.yml.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        alertFor: ctx.vars.alertFor,
        maxLagSeconds: ctx.vars.alertMaxLagSeconds,
        // playbooks/backups.ts runs daily: a day and two hours without a whole backup is an alert
        backupMaxAgeSeconds: ctx.vars.alertBackupMaxAgeSeconds,
        backupHosts: ctx.inventory.groups.has(ctx.vars.backupGroup) ? ctx.hostsOf(ctx.vars.backupGroup).map((h) => h.name) : [],
      },
      mode: '0644',
      validate: 'promtool check rules %s',
      notify: reloadPrometheus,
    }),
    template('/etc/prometheus/prometheus.yml', {
      source: new URL('./templates/prometheus.yml.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        scrapeInterval: ctx.vars.scrapeInterval,
        rulesFile: RULES,
        nodes: ctx.hostsOf('all').map(target),
        haproxy: haproxyPort ? ctx.hostsOf(ctx.vars.lbGroup).map((h) => ({ ...target(h), port: haproxyPort })) : [],
        // the alertmanager role runs beside Prometheus when there is somewhere to send alerts
        alertmanagers: checkWebhooks(ctx.vars.alertWebhooks).length ? [`127.0.0.1:${ALERTMANAGER_PORT}`] : [],
      },
      mode: '0644',
      validate: 'promtool check config %s',
      notify: reloadPrometheus,
    }),
    service('prometheus', { running: true, enabled: true }),
  ]
})

export const ALERTMANAGER_PORT = 9093

/** `alertWebhooks`, each an http(s) URL (the type is checked before the run; the shape here). */
function checkWebhooks(list: readonly (string | Secret)[]): (string | Secret)[] {
  for (const u of list) {
    const text = isSecret(u) ? u.reveal() : u
    if (!/^https?:\/\/[^\s']+$/.test(text)) throw new Error(`alertWebhooks: each must be an http(s) URL, got ${isSecret(u) ? 'a secret that is not one' : JSON.stringify(u)}`)
  }
  return [...list]
}

/**
 * Alertmanager beside Prometheus, sending every alert (and its resolution) to
 * the `alertWebhooks`; nothing at all when there are none. It listens on
 * loopback only, without clustering.
 */
export const alertmanager = role('alertmanager', {
  vars: {
    alertWebhooks,
    alertGroupWait: roleVar.string({ default: '10s', description: 'how long Alertmanager waits to group a new alert with others' }),
    alertGroupInterval: roleVar.string({ default: '1m', description: 'how long before a group\'s new alerts are sent' }),
    alertRepeatInterval: roleVar.string({ default: '4h', description: 'how often a firing alert is sent again' }),
  },
  description: 'Alertmanager beside Prometheus, posting alerts to alertWebhooks',
}, (ctx) => {
  const webhooks = checkWebhooks(ctx.vars.alertWebhooks)
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
        groupWait: ctx.vars.alertGroupWait,
        groupInterval: ctx.vars.alertGroupInterval,
        repeatInterval: ctx.vars.alertRepeatInterval,
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
