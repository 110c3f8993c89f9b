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
import { role, roleVar, varKinds, firewall as nftFirewall, type AllowRule, type FirewallOwnership, type HostInfo, type VarKind } from 'muster'
import { primaryGroupVar, privateAddress } from '../mysql/index.ts'
import { haproxyVars } from '../haproxy/index.ts'
import { failoverVars } from '../haproxy/failover.ts'

const addresses = (hosts: readonly HostInfo[]): string[] => hosts.map(privateAddress)

/** A rule's shape is checked by the firewall resource itself; here, that it is one. */
const allowRule: VarKind<AllowRule> = { type: 'AllowRule', is: (v): v is AllowRule => typeof v === 'object' && v !== null && !Array.isArray(v) }

const ownership: VarKind<FirewallOwnership> = { type: "'table' | 'ruleset'", is: (v): v is FirewallOwnership => v === 'table' || v === 'ruleset' }

/** The stack's groups, by the names this inventory gives them. */
export const stackGroupVars = {
  lbGroup: failoverVars.lbGroup,
  webGroup: haproxyVars.webGroup,
  mysqlPrimaryGroup: primaryGroupVar,
  mysqlReplicaGroup: roleVar.string({ default: 'db_replicas', description: 'the inventory group of the database replicas' }),
  monitoringGroup: roleVar.string({ default: 'monitoring', description: 'the inventory group of the Prometheus hosts (none: no scrape rules)' }),
}

export const firewallVars = {
  ...stackGroupVars,
  firewallAllow: roleVar.of(varKinds.list(allowRule), { default: [], description: 'more rules: [{ port, proto?, from?, comment? }]' }),
  firewallSshFrom: roleVar.stringList({ description: 'addresses/CIDRs SSH is admitted from (default: anywhere)' }),
  firewallOwns: roleVar.of(ownership, { description: "'table' (default): muster's own nftables table only, other programs' tables left alone; 'ruleset': the whole ruleset, flushed at each load" }),
  httpPort: roleVar.integer({ default: 80, description: 'the port the web hosts serve HTTP on, admitted from the balancers' }),
  tlsCertificate: haproxyVars.tlsCertificate,
  haproxyMetricsPort: haproxyVars.haproxyMetricsPort,
  lbVip: failoverVars.lbVip,
}

export const firewall = role('firewall', { vars: firewallVars, description: 'one nftables ruleset per host: SSH, and what its roles serve to whom' }, (ctx) => {
  const v = ctx.vars
  const inGroup = (g: string): boolean => ctx.host.groups.includes(g)
  const hostsOf = (g: string): HostInfo[] => (ctx.inventory.groups.has(g) ? ctx.hostsOf(g) : [])
  const allow: AllowRule[] = []
  if (inGroup(v.lbGroup)) {
    allow.push({ port: 80, comment: 'http' })
    if (v.tlsCertificate !== undefined) allow.push({ port: 443, comment: 'https' })
    const peers = hostsOf(v.lbGroup).filter((h) => h.name !== ctx.name)
    if (v.lbVip !== undefined && peers.length > 0) allow.push({ proto: 'vrrp', from: addresses(peers), comment: 'vrrp from the other balancers' })
  }
  if (inGroup(v.webGroup)) {
    allow.push({ port: v.httpPort, from: addresses(hostsOf(v.lbGroup)), comment: 'http from the load balancers' })
  }
  if (inGroup(v.mysqlPrimaryGroup)) {
    const groups = [v.webGroup, v.mysqlReplicaGroup].filter((g) => ctx.inventory.groups.has(g))
    const clients = groups.length ? ctx.hostsOf(`${groups.join(':')}:!${ctx.name}`) : []
    allow.push({ port: 3306, from: addresses(clients), comment: 'mysql from the app and the replicas' })
  }
  const monitors = addresses(hostsOf(v.monitoringGroup))
  if (monitors.length > 0) {
    allow.push({ port: 9100, from: monitors, comment: 'node-exporter scrapes' })
    if (inGroup(v.lbGroup) && v.haproxyMetricsPort !== undefined) allow.push({ port: v.haproxyMetricsPort, from: monitors, comment: 'haproxy metrics scrapes' })
  }
  allow.push(...v.firewallAllow)
  return nftFirewall({ host: ctx.name, allow, ...(v.firewallSshFrom ? { ssh: { from: v.firewallSshFrom } } : {}), ...(v.firewallOwns ? { owns: v.firewallOwns } : {}) })
})
