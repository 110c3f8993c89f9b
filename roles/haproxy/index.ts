// HAProxy in front of the web hosts: round robin, health checks on /health,
// failed requests redispatched, a stats socket for the runtime API. With
// `tlsCertificate` (PEM) and `tlsKey` (a Secret) it terminates HTTPS on :443
// and answers plain HTTP with a redirect to it.
import { role, roleVar, apt, template, service, reload, directory, file, secret, haproxyServers, type Secret } from 'muster'

export const HAPROXY_SOCKET = '/run/haproxy/admin.sock'
/** Certificate and key in one file, as HAProxy's `crt` reads them; 0600 root, read before HAProxy drops privileges. */
export const HAPROXY_PEM = '/etc/haproxy/tls/site.pem'

export const haproxyVars = {
  webGroup: roleVar.string({ default: 'web', description: 'the inventory group (or pattern) of the web hosts, balanced over' }),
  haproxyBind: roleVar.string({ default: ':80', description: 'where HAProxy listens for HTTP' }),
  haproxyCheckInterval: roleVar.string({ default: '1s', description: 'how often each web host\'s /health is checked' }),
  haproxyMetricsPort: roleVar.integer({ description: 'a frontend serving HAProxy\'s Prometheus metrics on this port (none when unset)' }),
  haproxyTlsBind: roleVar.string({ default: ':443', description: 'where HTTPS is served, with tlsCertificate and tlsKey' }),
  hstsMaxAge: roleVar.integer({ default: 31536000, description: 'Strict-Transport-Security max-age, in seconds' }),
  tlsCertificate: roleVar.string({ description: 'PEM certificate chain: with tlsKey, HTTPS on haproxyTlsBind and HTTP redirected to it' }),
  tlsKey: roleVar.secret({ description: 'PEM private key of tlsCertificate' }),
}

export const haproxy = role('haproxy', { vars: haproxyVars, description: 'HAProxy: round robin over the web hosts, health-checked, HTTPS with a certificate' }, (ctx) => {
  const reloadHaproxy = reload('haproxy')
  const group = ctx.vars.webGroup
  const backends = ctx.hostsOf(group).map((h) => ({
    name: h.name,
    // the web hosts' own vars: nginx and firewall read them there too
    address: typeof h.vars.privateAddress === 'string' ? h.vars.privateAddress : h.address,
    port: typeof h.vars.httpPort === 'number' ? h.vars.httpPort : 80,
  }))
  if (backends.length === 0) throw new Error(`haproxy: the group ${group} has no hosts to balance over`)
  const pem = tlsPem(ctx.vars.tlsCertificate, ctx.vars.tlsKey, ctx.name)
  return [
    // socat: the usual client for the runtime API (echo "show stat" | socat stdio /run/haproxy/admin.sock)
    apt(['haproxy', 'socat']),
    // before the config: `haproxy -c` opens the certificate it names
    pem && directory('/etc/haproxy/tls', { mode: '0700', owner: 'root', group: 'root' }),
    pem && file(HAPROXY_PEM, { content: pem, mode: '0600', owner: 'root', group: 'root', notify: reloadHaproxy }),
    template('/etc/haproxy/haproxy.cfg', {
      source: new URL('./templates/haproxy.cfg.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        bind: ctx.vars.haproxyBind,
        statsSocket: HAPROXY_SOCKET,
        healthHost: 'localhost',
        checkInterval: ctx.vars.haproxyCheckInterval,
        backends,
        metricsPort: ctx.vars.haproxyMetricsPort ?? null,
        tls: pem ? { bind: ctx.vars.haproxyTlsBind, pem: HAPROXY_PEM, hstsMaxAge: ctx.vars.hstsMaxAge } : null,
      },
      mode: '0644',
      // a temp copy is checked before it replaces the live file
      validate: 'haproxy -c -f %s',
      notify: reloadHaproxy,
    }),
    service('haproxy', { running: true, enabled: true }),
    // the running HAProxy, not only its file: a server put in maintenance, drained or
    // reweighted through the runtime API is drift, set back to what haproxy.cfg says
    haproxyServers({ backend: 'web', socket: HAPROXY_SOCKET }),
  ]
})

/** The certificate chain and its key as one Secret file, or null without TLS; half a pair is an error. */
function tlsPem(certificate: string | undefined, key: Secret | undefined, host: string): Secret | null {
  if (certificate === undefined && key === undefined) return null
  if (certificate === undefined || !certificate.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`haproxy on ${host}: tlsCertificate must be PEM text (-----BEGIN CERTIFICATE-----...)${certificate === undefined ? ', and is missing while tlsKey is set' : ''}`)
  }
  if (key === undefined) throw new Error(`haproxy on ${host}: tlsKey (a Secret) is missing while tlsCertificate is set`)
  const k = key.reveal()
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k)) throw new Error(`haproxy on ${host}: tlsKey is not a PEM private key`)
  return secret(`${certificate.trimEnd()}\n${k.trimEnd()}\n`)
}
