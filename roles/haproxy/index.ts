// HAProxy in front of the web hosts: round robin, health checks on /health,
// failed requests redispatched, a stats socket for the runtime API.
import { role, apt, template, service, reload } from 'muster'

export const HAPROXY_SOCKET = '/run/haproxy/admin.sock'

export const haproxy = role('haproxy', (ctx) => {
  const reloadHaproxy = reload('haproxy')
  const group = (ctx.vars.haproxyBackendGroup as string | undefined) ?? 'web'
  const backends = ctx.hostsOf(group).map((h) => ({
    name: h.name,
    address: (h.vars.privateAddress as string | undefined) ?? h.address,
    port: (h.vars.httpPort as number | undefined) ?? 80,
  }))
  if (backends.length === 0) throw new Error(`haproxy: the group ${group} has no hosts to balance over`)
  return [
    // socat: the usual client for the runtime API (echo "show stat" | socat stdio /run/haproxy/admin.sock)
    apt(['haproxy', 'socat']),
    template('/etc/haproxy/haproxy.cfg', {
      source: new URL('./templates/haproxy.cfg.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        bind: (ctx.vars.haproxyBind as string | undefined) ?? ':80',
        statsSocket: HAPROXY_SOCKET,
        healthHost: 'localhost',
        checkInterval: (ctx.vars.haproxyCheckInterval as string | undefined) ?? '1s',
        backends,
      },
      mode: '0644',
      // a temp copy is checked before it replaces the live file
      validate: 'haproxy -c -q -f %s',
      notify: reloadHaproxy,
    }),
    service('haproxy', { running: true, enabled: true }),
  ]
})
