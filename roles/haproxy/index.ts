// HAProxy in front of the web hosts: round robin, health checks on /health,
// failed requests redispatched, a stats socket for the runtime API. With
// `tlsCertificate` (PEM) and `tlsKey` (a Secret) it terminates HTTPS on :443
// and answers plain HTTP with a redirect to it.
import { role, apt, template, service, reload, directory, file, secret, isSecret, haproxyServers, type Secret } from 'muster'

export const HAPROXY_SOCKET = '/run/haproxy/admin.sock'
/** Certificate and key in one file, as HAProxy's `crt` reads them; 0600 root, read before HAProxy drops privileges. */
export const HAPROXY_PEM = '/etc/haproxy/tls/site.pem'

export const haproxy = role('haproxy', (ctx) => {
  const reloadHaproxy = reload('haproxy')
  const group = (ctx.vars.haproxyBackendGroup as string | undefined) ?? 'web'
  const backends = ctx.hostsOf(group).map((h) => ({
    name: h.name,
    address: (h.vars.privateAddress as string | undefined) ?? h.address,
    port: (h.vars.httpPort as number | undefined) ?? 80,
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
        bind: (ctx.vars.haproxyBind as string | undefined) ?? ':80',
        statsSocket: HAPROXY_SOCKET,
        healthHost: 'localhost',
        checkInterval: (ctx.vars.haproxyCheckInterval as string | undefined) ?? '1s',
        backends,
        metricsPort: (ctx.vars.haproxyMetricsPort as number | undefined) ?? null,
        tls: pem ? { bind: (ctx.vars.haproxyTlsBind as string | undefined) ?? ':443', pem: HAPROXY_PEM, hstsMaxAge: (ctx.vars.hstsMaxAge as number | undefined) ?? 31536000 } : null,
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
function tlsPem(certificate: unknown, key: unknown, host: string): Secret | null {
  if (certificate === undefined && key === undefined) return null
  if (typeof certificate !== 'string' || !certificate.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`haproxy on ${host}: tlsCertificate must be PEM text (-----BEGIN CERTIFICATE-----...)${certificate === undefined ? ', and is missing while tlsKey is set' : ''}`)
  }
  if (!isSecret(key)) throw new Error(`haproxy on ${host}: tlsKey must be a Secret (secret(...) or labCertificate().key), so it never reaches output${key === undefined ? '; it is missing while tlsCertificate is set' : ''}`)
  const k = (key as Secret).reveal()
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k)) throw new Error(`haproxy on ${host}: tlsKey is not a PEM private key`)
  return secret(`${certificate.trimEnd()}\n${k.trimEnd()}\n`)
}
