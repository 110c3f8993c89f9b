import http from 'node:http'
import net from 'node:net'
import { lookup as dnsLookup } from 'node:dns/promises'

/**
 * The lab hosts' only way out: an HTTP forward proxy on the bridge address
 * that lets the lab subnet reach the machine's apt mirror (plain GETs, and
 * CONNECT to port 443 for https sources).
 *
 * Why not tinyproxy, which the lab used first: tinyproxy opens a new upstream
 * connection, and resolves the mirror's name again, for every request. On a
 * machine whose resolver drops one query in ~30 (measured here: 2 of 60
 * lookups took exactly 5 s, the resolver's retry timeout), installing
 * mariadb-server's 58 packages stalled 5-10 s in DNS alone, on every host,
 * in every test and benchmark run. This proxy resolves each name once per
 * few minutes and keeps upstream connections alive.
 */

export interface AptProxyOptions {
  /** Address and port to listen on. */
  host: string
  port: number
  /** Only clients in this IPv4 CIDR (the lab's subnet) are served. */
  allow: string
  /** Name resolution; tests pass their own. Default: the system resolver. */
  resolve?: (name: string) => Promise<string>
  /** How long a resolved address is trusted (ms). Default 5 minutes. */
  resolveTtlMs?: number
  /** Upstream idle timeout (ms). Default 10 minutes, as long as a slow mirror may take. */
  timeoutMs?: number
  log?: (line: string) => void
}

/** Headers that describe one hop, never forwarded (RFC 9110 7.6.1). */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

export function forwardHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  )
  const out: http.OutgoingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !hopByHop.has(k) && !named.has(k)) out[k] = v
  return out
}

/** Is an IPv4 address (or its IPv4-mapped IPv6 form) inside a CIDR? */
export function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/')
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (!net.isIPv4(v4) || !base || !net.isIPv4(base)) return false
  const n = Number(bits ?? 32)
  const toInt = (a: string): number => a.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0
  return ((toInt(v4) & mask) >>> 0) === ((toInt(base) & mask) >>> 0)
}

/** Resolves each name once per TTL, sharing a lookup in flight; a failed refresh keeps the last good address. */
export function cachedResolver(resolve: (name: string) => Promise<string>, ttlMs: number): (name: string) => Promise<string> {
  const cache = new Map<string, { address: Promise<string>; at: number; good?: string }>()
  return async (name) => {
    if (net.isIP(name)) return name
    const hit = cache.get(name)
    if (hit && Date.now() - hit.at < ttlMs) return hit.address
    const entry: { address: Promise<string>; at: number; good?: string } = { address: resolve(name), at: Date.now(), ...(hit?.good ? { good: hit.good } : {}) }
    cache.set(name, entry)
    try {
      entry.good = await entry.address
      return entry.good
    } catch (err) {
      if (entry.good) return entry.good
      cache.delete(name) // do not remember a failure: the next request asks again
      throw err
    }
  }
}

export function createAptProxy(opts: AptProxyOptions): http.Server {
  const log = opts.log ?? (() => undefined)
  const resolve = cachedResolver(opts.resolve ?? (async (name) => (await dnsLookup(name, { family: 4 })).address), opts.resolveTtlMs ?? 300_000)
  const timeoutMs = opts.timeoutMs ?? 600_000
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: timeoutMs })
  const allowed = (socket: net.Socket): boolean => inCidr(socket.remoteAddress ?? '', opts.allow)

  const server = http.createServer((req, res) => {
    const refuse = (code: number, why: string): void => {
      res.writeHead(code, { 'content-type': 'text/plain' }).end(`${why}\n`)
    }
    if (!allowed(req.socket)) return refuse(403, 'this proxy serves the muster lab only')
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      return refuse(400, 'a proxy request needs an absolute http:// URL')
    }
    if (target.protocol !== 'http:') return refuse(400, `only http:// is proxied (use CONNECT for ${target.protocol})`)
    resolve(target.hostname).then(
      (address) => {
        const headers = forwardHeaders(req.headers)
        headers.host = target.host
        const up = http.request(
          { host: address, port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers, agent, timeout: timeoutMs },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, forwardHeaders(upRes.headers))
            upRes.pipe(res)
            upRes.on('error', () => res.destroy())
          },
        )
        up.on('timeout', () => up.destroy(new Error(`no answer from ${target.host} in ${timeoutMs / 1000} s`)))
        up.on('error', (err) => {
          log(`${req.method} ${target.href}: ${err.message}`)
          if (!res.headersSent) refuse(502, `upstream ${target.host}: ${err.message}`)
          else res.destroy()
        })
        req.pipe(up)
      },
      (err: Error) => {
        log(`resolving ${target.hostname}: ${err.message}`)
        refuse(502, `cannot resolve ${target.hostname}: ${err.message}`)
      },
    )
  })

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const deny = (status: string): void => {
      client.end(`HTTP/1.1 ${status}\r\n\r\n`)
    }
    if (!allowed(client)) return deny('403 Forbidden')
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '')
    if (!m || m[2] !== '443') return deny('403 Forbidden') // CONNECT only to https, never to arbitrary ports
    const [, name, port] = m
    client.on('error', () => undefined)
    resolve(name!).then(
      (address) => {
        const up = net.connect(Number(port), address, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
          if (head.length) up.write(head)
          up.pipe(client)
          client.pipe(up)
        })
        up.setTimeout(timeoutMs, () => up.destroy())
        up.on('error', (err) => {
          log(`CONNECT ${req.url}: ${err.message}`)
          if (!client.destroyed) deny('502 Bad Gateway')
        })
        client.on('close', () => up.destroy())
      },
      () => deny('502 Bad Gateway'),
    )
  })
  server.on('clientError', (_err, socket) => socket.destroy())
  server.on('close', () => agent.destroy())
  return server
}
