// No single point of failure at the front: with `lbVip` set and two or more
// hosts in the `lb` group, keepalived (VRRP over unicast) keeps the site's
// address on a balancer whose HAProxy is running. Every balancer runs the
// same HAProxy config (bound to all addresses, so the one holding the VIP
// answers on it); priorities follow the group's order, the first wins back
// the address when it returns. Publish the VIP (DNS, the certificate's names).
import { role, roleVar, apt, template, service, reload } from 'muster'
import { privateAddress } from '../mysql/index.ts'
import { isIP } from 'node:net'

export const failoverVars = {
  lbVip: roleVar.string({ description: 'the site\'s floating IPv4 address (a.b.c.d/prefix); keepalived runs only with it and two or more balancers' }),
  lbGroup: roleVar.string({ default: 'lb', description: 'the inventory group of the balancers' }),
  lbInterface: roleVar.string({ default: 'eth0', description: 'the NIC that carries lbVip' }),
  lbRouterId: roleVar.integer({ default: 51, description: 'VRRP virtual router id (1-255), unique on the network segment' }),
}

export const failover = role('lb-failover', { vars: failoverVars, description: 'keepalived: the site\'s address on a balancer whose HAProxy runs' }, (ctx) => {
  const vip = ctx.vars.lbVip
  if (vip === undefined) return []
  const [address, prefix = '24'] = vip.split('/')
  if (isIP(address ?? '') !== 4) throw new Error(`lb-failover on ${ctx.name}: lbVip must be an IPv4 address (optionally /prefix), got ${JSON.stringify(vip)}`)
  const balancers = ctx.hostsOf(ctx.vars.lbGroup)
  const index = balancers.findIndex((h) => h.name === ctx.name)
  if (index < 0) throw new Error(`lb-failover on ${ctx.name}: the host is not in the ${ctx.vars.lbGroup} group`)
  if (balancers.length < 2) return [] // one balancer: nobody to fail over to, and its own address is the site's
  const reloadKeepalived = reload('keepalived')
  return [
    apt(['keepalived']),
    template('/etc/keepalived/keepalived.conf', {
      source: new URL('./templates/keepalived.conf.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        vip: address,
        prefix,
        iface: ctx.vars.lbInterface,
        routerId: ctx.vars.lbRouterId,
        // 150, 140, ...: the group's first balancer holds the address whenever it can
        priority: 150 - 10 * index,
        self: privateAddress(ctx.host),
        peers: balancers.filter((h) => h.name !== ctx.name).map(privateAddress),
      },
      mode: '0644',
      validate: 'keepalived -t -f %s',
      notify: reloadKeepalived,
    }),
    service('keepalived', { running: true, enabled: true }),
  ]
})
