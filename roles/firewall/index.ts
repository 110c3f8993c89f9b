// The reference stack's firewall, one nftables ruleset per host, from the
// inventory's groups: each host accepts only what its roles serve, and only
// from the hosts that use it. SSH stays open (from `firewallSshFrom` if set).
//   lb           80 (and 443 with TLS) from anywhere; VRRP from the other balancers (lbVip)
//   web          80 from the load balancers only (health checks and proxied requests)
//   db_primary   3306 from the web hosts (the app writes there) and the replicas (replication)
//   db_replicas  nothing extra: the app reads its local replica over the unix socket
//   monitoring   (when the group exists) node-exporter's 9100 on every host, and
//                HAProxy's metrics port on the balancers, from the monitoring hosts only
// The app itself listens on 127.0.0.1 only, so it needs no rule.
// muster owns its own nftables table (inet muster) and leaves other programs'
// tables alone (Docker, fail2ban, an admin's); `firewallOwns: 'ruleset'` makes
// it own the whole ruleset instead, flushing everything else at each load.
import { role, firewall as nftFirewall, type AllowRule, type FirewallOwnership, type HostInfo } from 'muster'
import { privateAddress } from '../mysql/index.ts'

const addresses = (hosts: readonly HostInfo[]): string[] => hosts.map(privateAddress)

export const firewall = role('firewall', (ctx) => {
  const inGroup = (g: string): boolean => ctx.host.groups.includes(g)
  const allow: AllowRule[] = []
  if (inGroup('lb')) {
    allow.push({ port: 80, comment: 'http' })
    if (ctx.vars.tlsCertificate !== undefined) allow.push({ port: 443, comment: 'https' })
    const peers = ctx.hostsOf('lb').filter((h) => h.name !== ctx.name)
    if (ctx.vars.lbVip !== undefined && peers.length > 0) allow.push({ proto: 'vrrp', from: addresses(peers), comment: 'vrrp from the other balancers' })
  }
  if (inGroup('web')) {
    allow.push({ port: (ctx.vars.httpPort as number | undefined) ?? 80, from: addresses(ctx.hostsOf('lb')), comment: 'http from the load balancers' })
  }
  if (inGroup('db_primary')) {
    allow.push({ port: 3306, from: addresses(ctx.hostsOf('web:db_replicas:!' + ctx.name)), comment: 'mysql from the app and the replicas' })
  }
  const monitors = ctx.inventory.groups.has('monitoring') ? addresses(ctx.hostsOf('monitoring')) : []
  if (monitors.length > 0) {
    allow.push({ port: 9100, from: monitors, comment: 'node-exporter scrapes' })
    const metricsPort = ctx.vars.haproxyMetricsPort as number | undefined
    if (inGroup('lb') && metricsPort !== undefined) allow.push({ port: metricsPort, from: monitors, comment: 'haproxy metrics scrapes' })
  }
  for (const extra of (ctx.vars.firewallAllow as AllowRule[] | undefined) ?? []) allow.push(extra)
  const sshFrom = ctx.vars.firewallSshFrom as string[] | undefined
  const owns = ctx.vars.firewallOwns as FirewallOwnership | undefined
  return nftFirewall({ host: ctx.name, allow, ...(sshFrom ? { ssh: { from: sshFrom } } : {}), ...(owns ? { owns } : {}) })
})
