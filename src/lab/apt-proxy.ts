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
  /**
   * Destinations never proxied to, as IPv4 CIDRs. Default: loopback, link-local
   * (cloud metadata), "this network" and the lab's own subnet: the hosts need
   * a mirror, not the controller's private services or a loop through the proxy.
   */
  deny?: readonly string[]
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

/** Is an IPv4 address (or its IPv4-mapped IPv6 form) inside a CIDR? A malformed CIDR contains nothing. */
export function inCidr(address: string, cidr: string): boolean {
  const [base, bits, extra] = cidr.split('/')
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  const n = bits === undefined ? 32 : Number(bits)
  if (extra !== undefined || !net.isIPv4(v4) || !base || !net.isIPv4(base) || !Number.isInteger(n) || n < 0 || n > 32) return false
  const toInt = (a: string): number => a.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0
  return ((toInt(v4) & mask) >>> 0) === ((toInt(base) & mask) >>> 0)
}

interface CacheEntry {
  address: Promise<string>
  at: number
  good?: string
}

/**
 * Resolves each name once per TTL, sharing a lookup in flight. A failed
 * refresh keeps serving the last good address (and is retried after the TTL);
 * a name that never resolved is asked again on the next request.
 */
export function cachedResolver(resolve: (name: string) => Promise<string>, ttlMs: number): (name: string) => Promise<string> {
  const cache = new Map<string, CacheEntry>()
  return async (name) => {
    if (net.isIP(name)) return name
    const hit = cache.get(name)
    if (hit && Date.now() - hit.at < ttlMs) return hit.address
    const entry: CacheEntry = { address: resolve(name), at: Date.now(), ...(hit?.good ? { good: hit.good } : {}) }
    entry.address = entry.address.then(
      (a) => {
        entry.good = a
        return a
      },
      (err: unknown) => {
        if (entry.good) return entry.good
        if (cache.get(name) === entry) cache.delete(name) // do not remember a failure: the next request asks again
        throw err
      },
    )
    cache.set(name, entry)
    return entry.address
  }
}

const defaultDeny = ['127.0.0.0/8', '169.254.0.0/16', '0.0.0.0/8']
const quiet = (): void => undefined

export function createAptProxy(opts: AptProxyOptions): http.Server {
  const log = opts.log ?? quiet
  const resolve = cachedResolver(opts.resolve ?? (async (name) => (await dnsLookup(name, { family: 4 })).address), opts.resolveTtlMs ?? 300_000)
  const timeoutMs = opts.timeoutMs ?? 600_000
  const deny = opts.deny ?? [...defaultDeny, opts.allow]
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: timeoutMs })
  const allowed = (socket: net.Socket): boolean => inCidr(socket.remoteAddress ?? '', opts.allow)
  const denied = (address: string): boolean => !net.isIPv4(address) || deny.some((c) => inCidr(address, c))

  const server = http.createServer((req, res) => {
    req.on('error', quiet) // a client that hangs up mid-request: its response is abandoned below
    res.on('error', quiet)
    const refuse = (code: number, why: string): void => {
      if (res.headersSent) return void res.destroy()
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
    // GET and HEAD carry no body: one retry when a kept-alive upstream socket turns out closed
    const bodiless = req.method === 'GET' || req.method === 'HEAD'
    const forward = (address: string, retry: boolean): void => {
      const headers = forwardHeaders(req.headers)
      headers.host = target.host
      const up = http.request({ host: address, port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers, agent, timeout: timeoutMs }, (upRes) => {
        try {
          res.writeHead(upRes.statusCode ?? 502, forwardHeaders(upRes.headers))
        } catch (err) {
          log(`${req.method} ${target.href}: unusable answer: ${(err as Error).message}`)
          upRes.destroy()
          return refuse(502, `upstream ${target.host}: unusable answer`)
        }
        upRes.on('error', () => res.destroy())
        upRes.pipe(res)
      })
      // the client went away before its answer was whole: free the upstream socket now, not at the timeout
      res.on('close', () => {
        if (!res.writableFinished) up.destroy()
      })
      up.on('timeout', () => up.destroy(new Error(`no answer from ${target.host} in ${timeoutMs / 1000} s`)))
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (retry && up.reusedSocket && !res.headersSent && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return forward(address, false)
        log(`${req.method} ${target.href}: ${err.message}`)
        refuse(502, `upstream ${target.host}: ${err.message}`)
      })
      if (bodiless) up.end()
      else req.pipe(up)
    }
    resolve(target.hostname)
      .then((address) => {
        if (denied(address)) return refuse(403, `${target.hostname} (${address}) is not a mirror this proxy serves`)
        forward(address, bodiless)
      })
      .catch((err: Error) => {
        log(`${req.method} ${target.href}: ${err.message}`)
        refuse(502, `cannot reach ${target.hostname}: ${err.message}`)
      })
  })

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on('error', quiet) // first: Node leaves a CONNECT socket without an error handler
    const deny403 = (): void => {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n')
    }
    if (!allowed(client)) return deny403()
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '')
    if (!m || m[2] !== '443') return deny403() // CONNECT only to https, never to arbitrary ports
    const [, name, port] = m
    let up: net.Socket | undefined
    client.on('close', () => up?.destroy())
    resolve(name!)
      .then((address) => {
        if (client.destroyed) return
        if (denied(address)) return deny403()
        let tunnelled = false
        up = net.connect(Number(port), address, () => {
          tunnelled = true
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
          if (head.length) up!.write(head)
          up!.pipe(client)
          client.pipe(up!)
        })
        up.setTimeout(timeoutMs, () => up!.destroy())
        up.on('close', () => {
          if (tunnelled) client.destroy()
        })
        up.on('error', (err) => {
          log(`CONNECT ${req.url}: ${err.message}`)
          // after the 200 the client speaks TLS: a status line would only corrupt it
          if (!tunnelled && !client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
        })
      })
      .catch(() => {
        if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
      })
  })
  server.on('clientError', (_err, socket) => socket.destroy())
  server.on('close', () => agent.destroy())
  return server
}
