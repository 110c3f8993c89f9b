// No single point of failure at the front: with `lbVip` set and two or more
// hosts in the `lb` group, keepalived (VRRP over unicast) keeps the site's
// address on a balancer whose HAProxy is running. Every balancer runs the
// same HAProxy config (bound to all addresses, so the one holding the VIP
// answers on it); priorities follow the group's order, the first wins back
// the address when it returns. Publish the VIP (DNS, the certificate's names).
import { role, apt, template, service, reload } from 'muster'
import { privateAddress } from '../mysql/index.ts'
import { isIP } from 'node:net'

export const failover = role('lb-failover', (ctx) => {
  const vip = ctx.vars.lbVip as string | undefined
  if (vip === undefined) return []
  const [address, prefix = '24'] = vip.split('/')
  if (isIP(address ?? '') !== 4) throw new Error(`lb-failover on ${ctx.name}: lbVip must be an IPv4 address (optionally /prefix), got ${JSON.stringify(vip)}`)
  const balancers = ctx.hostsOf((ctx.vars.lbGroup as string | undefined) ?? 'lb')
  const index = balancers.findIndex((h) => h.name === ctx.name)
  if (index < 0) throw new Error(`lb-failover on ${ctx.name}: the host is not in the lb group`)
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
        iface: (ctx.vars.lbInterface as string | undefined) ?? 'eth0',
        routerId: (ctx.vars.lbRouterId as number | undefined) ?? 51,
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
