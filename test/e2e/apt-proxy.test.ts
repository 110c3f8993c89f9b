import { expect } from 'chai'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { createAptProxy, cachedResolver, forwardHeaders, inCidr, type AptProxyOptions } from '../../src/lab/apt-proxy.ts'

/** The lab's apt proxy, on loopback, in front of a stand-in mirror that records what reaches it. */

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function get(proxyPort: number, url: string, headers: Record<string, string> = {}, agent?: http.Agent): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, headers, ...(agent ? { agent } : {}) }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

function connect(proxyPort: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`))
    let got = ''
    s.on('data', (c) => {
      got += c.toString()
      if (got.includes('\r\n\r\n')) {
        s.destroy()
        resolve(got.split('\r\n')[0]!)
      }
    })
    s.on('error', reject)
  })
}

describe('lab apt proxy', function () {
  let mirror: http.Server
  let mirrorPort: number
  let mirrorConnections: number
  let seen: Seen[]
  let lookups: string[]
  let proxy: http.Server
  let proxyPort: number

  before(async function () {
    mirror = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
      if (req.url === '/missing') return void res.writeHead(404).end('no such file\n')
      res.writeHead(200, { 'content-type': 'application/vnd.debian.binary-package', 'x-mirror': 'yes', connection: 'keep-alive' }).end(`deb bytes of ${req.url}`)
    })
    mirror.on('connection', () => mirrorConnections++)
    mirrorPort = await listen(mirror)
    proxy = createAptProxy({
      host: '127.0.0.1',
      port: 0,
      allow: '127.0.0.0/8',
      deny: [], // the stand-in mirror is on loopback, which a real proxy refuses
      resolve: async (name) => {
        lookups.push(name)
        if (name !== 'mirror.test') throw new Error(`getaddrinfo ENOTFOUND ${name}`)
        return '127.0.0.1'
      },
    })
    proxyPort = await listen(proxy)
  })
  beforeEach(function () {
    seen = []
    lookups = []
    mirrorConnections = 0
  })
  after(async function () {
    // only what the before hook got to start: a failed set-up reports its own error once
    for (const server of [proxy, mirror]) {
      if (!server) continue
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })

  it('forwards a GET to the mirror and its answer back, status and body', async function () {
    const r = await get(proxyPort, `http://mirror.test:${mirrorPort}/debian/pool/main/p/pv/pv_1.6.20-1_amd64.deb`)
    expect(r.status).to.equal(200)
    expect(r.body).to.equal('deb bytes of /debian/pool/main/p/pv/pv_1.6.20-1_amd64.deb')
    expect(r.headers['x-mirror']).to.equal('yes')
    expect(seen).to.have.length(1)
    expect(seen[0]!.headers.host).to.equal(`mirror.test:${mirrorPort}`)
    const missing = await get(proxyPort, `http://mirror.test:${mirrorPort}/missing`)
    expect(missing.status).to.equal(404)
  })

  it('resolves the mirror once for many requests and reuses its connections (the 5 s resolver stalls tinyproxy paid per request)', async function () {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    for (let i = 0; i < 30; i++) expect((await get(proxyPort, `http://mirror.test:${mirrorPort}/f${i}`, {}, agent)).status).to.equal(200)
    agent.destroy()
    expect(seen).to.have.length(30)
    expect(lookups.length).to.be.at.most(1) // 0 when an earlier test's lookup is still fresh
    expect(mirrorConnections).to.be.at.most(2)
  })

  it('does not pass hop-by-hop headers on, but does pass the rest', async function () {
    await get(proxyPort, `http://mirror.test:${mirrorPort}/x`, { 'Proxy-Connection': 'keep-alive', 'Proxy-Authorization': 'Basic c2VjcmV0', 'X-Private': 'drop', Connection: 'X-Private', 'Cache-Control': 'max-age=0' })
    const h = seen[0]!.headers
    expect(h).to.not.have.property('proxy-connection')
    expect(h).to.not.have.property('proxy-authorization')
    expect(h).to.not.have.property('x-private')
    expect(h['cache-control']).to.equal('max-age=0')
  })

  it('answers 502 naming the host when the name does not resolve, and asks again next time', async function () {
    const r = await get(proxyPort, `http://nowhere.test:${mirrorPort}/x`)
    expect(r.status).to.equal(502)
    expect(r.body).to.include('nowhere.test')
    await get(proxyPort, `http://nowhere.test:${mirrorPort}/x`)
    expect(lookups.filter((n) => n === 'nowhere.test')).to.have.length(2)
    expect(seen).to.have.length(0)
  })

  it('refuses what is not an absolute http:// URL', async function () {
    expect((await get(proxyPort, '/debian/dists/bookworm/InRelease')).status).to.equal(400)
    expect((await get(proxyPort, 'ftp://mirror.test/x')).status).to.equal(400)
    expect(seen).to.have.length(0)
  })

  it('tunnels CONNECT only to port 443', async function () {
    expect(await connect(proxyPort, `mirror.test:${mirrorPort}`)).to.match(/^HTTP\/1\.1 403/)
    expect(await connect(proxyPort, 'mirror.test:22')).to.match(/^HTTP\/1\.1 403/)
  })

  /** A second proxy with other settings, listening for the length of `fn`. */
  async function withProxy(opts: Omit<AptProxyOptions, 'host' | 'port'>, fn: (port: number) => Promise<void>): Promise<void> {
    const other = createAptProxy({ host: '127.0.0.1', port: 0, ...opts })
    const port = await listen(other)
    try {
      await fn(port)
    } finally {
      other.closeAllConnections()
      await new Promise((r) => other.close(r))
    }
  }

  it('serves only clients in its subnet', async function () {
    await withProxy({ allow: '10.77.0.0/24', resolve: async () => '127.0.0.1' }, async (port) => {
      const r = await get(port, `http://mirror.test:${mirrorPort}/x`)
      expect(r.status).to.equal(403)
      expect(await connect(port, 'mirror.test:443')).to.match(/^HTTP\/1\.1 403/)
      expect(seen).to.have.length(0)
    })
  })

  it('by default refuses destinations that are not a mirror: loopback, link-local, the lab itself', async function () {
    await withProxy({ allow: '127.0.0.0/8', resolve: async (n) => (n === 'meta.test' ? '169.254.169.254' : '127.0.0.1') }, async (port) => {
      const r = await get(port, `http://mirror.test:${mirrorPort}/x`)
      expect(r.status).to.equal(403)
      expect(r.body).to.include('is not a mirror this proxy serves')
      expect((await get(port, 'http://meta.test/latest/meta-data/')).status).to.equal(403)
      expect(await connect(port, 'mirror.test:443')).to.match(/^HTTP\/1\.1 403/)
      expect(seen).to.have.length(0)
    })
  })

  it('survives a client that resets a refused CONNECT, and keeps serving', async function () {
    await new Promise<void>((resolve) => {
      const s = net.connect(proxyPort, '127.0.0.1', () => s.write('CONNECT mirror.test:22 HTTP/1.1\r\n\r\n'))
      s.on('data', () => {
        s.resetAndDestroy()
        resolve()
      })
      s.on('error', () => resolve())
    })
    await new Promise((r) => setTimeout(r, 50))
    expect((await get(proxyPort, `http://mirror.test:${mirrorPort}/after-reset`)).status).to.equal(200)
  })

  it('frees the upstream request when its client goes away mid-answer', async function () {
    let upstreamClosed = false
    const slow = http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': '1000000' })
      res.write('x'.repeat(1000))
      req.socket.on('close', () => (upstreamClosed = true))
    })
    const slowPort = await listen(slow)
    try {
      await new Promise<void>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: proxyPort, path: `http://mirror.test:${slowPort}/big.deb` }, (res) => {
          res.once('data', () => {
            req.destroy()
            resolve()
          })
        })
        req.on('error', () => resolve())
        req.end()
      })
      const deadline = Date.now() + 3000
      while (!upstreamClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      expect(upstreamClosed, 'the proxy closed its upstream socket').to.equal(true)
    } finally {
      slow.closeAllConnections()
      await new Promise((r) => slow.close(r))
    }
  })

  describe('pieces', function () {
    it('inCidr matches IPv4 and IPv4-mapped addresses by prefix', function () {
      expect(inCidr('10.77.0.12', '10.77.0.0/24')).to.equal(true)
      expect(inCidr('::ffff:10.77.0.12', '10.77.0.0/24')).to.equal(true)
      expect(inCidr('10.77.1.12', '10.77.0.0/24')).to.equal(false)
      expect(inCidr('10.78.0.12', '10.77.0.0/16')).to.equal(false)
      expect(inCidr('192.0.2.1', '0.0.0.0/0')).to.equal(true)
      expect(inCidr('::1', '10.77.0.0/24')).to.equal(false)
      expect(inCidr('10.77.0.12', '10.77.0.0/33')).to.equal(false)
      expect(inCidr('10.77.0.12', '10.77.0.12')).to.equal(true)
    })

    it('forwardHeaders drops hop-by-hop headers and those Connection names', function () {
      expect(forwardHeaders({ connection: 'close, x-a', 'x-a': '1', 'x-b': '2', 'keep-alive': 'timeout=5', te: 'trailers' })).to.deep.equal({ 'x-b': '2' })
    })

    it('cachedResolver shares a lookup in flight, expires after its TTL and keeps the last good address when a refresh fails', async function () {
      let calls = 0
      let fail = false
      const r = cachedResolver(async () => {
        calls++
        await new Promise((res) => setTimeout(res, 5))
        if (fail) throw new Error('SERVFAIL')
        return `192.0.2.${calls}`
      }, 300)
      expect(await Promise.all([r('m'), r('m'), r('m')])).to.deep.equal(['192.0.2.1', '192.0.2.1', '192.0.2.1'])
      expect(calls).to.equal(1)
      await new Promise((res) => setTimeout(res, 350))
      fail = true
      expect(await r('m')).to.equal('192.0.2.1')
      expect(calls).to.equal(2)
      // the failed refresh is not remembered as a failure: the last good address serves until the next TTL
      expect(await Promise.all([r('m'), r('m')])).to.deep.equal(['192.0.2.1', '192.0.2.1'])
      expect(calls).to.equal(2)
      await new Promise((res) => setTimeout(res, 350))
      fail = false
      expect(await r('m')).to.equal('192.0.2.3')
      expect(await r('192.0.2.9')).to.equal('192.0.2.9') // an address is not looked up
      expect(calls).to.equal(3)
    })
  })
})
