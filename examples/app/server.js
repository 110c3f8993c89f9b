// The reference stack's sample app (Node.js 18, no framework).
//   GET  /            this host and release, as JSON
//   GET  /health      200 when the local database answers, 503 when not (or while shutting down)
//   POST /items       store {"value": "..."} on the primary, answer its id
//   GET  /items/:id   read a row from the local database (a replica on replica hosts)
//   GET  /static/...  public/ (Nginx serves it on the hosts; this is the fallback)
// SIGTERM: stop accepting, finish requests in flight, close the pools, exit 0.
import http from 'node:http'
import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import { loadConfig } from './config.js'
import { createDatabase } from './db.js'
import { serveStatic } from './static.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const cfg = loadConfig(process.env, `${here}RELEASE`)
const host = hostname()
const started = new Date()
const db = createDatabase(cfg.db)
let draining = false
let inFlight = 0

// the database cannot be reached: a retry elsewhere (or later) may succeed, so say 503, not 500
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR'])

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    // shutting down: this connection ends with this response, keep-alive or not
    ...(draining ? { Connection: 'close' } : {}),
    ...headers,
  })
  res.end(text)
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    req.on('data', (c) => {
      size += c.length
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function parseValue(body, type) {
  if ((type ?? '').includes('application/json')) {
    let parsed
    try {
      parsed = JSON.parse(body)
    } catch {
      throw Object.assign(new Error('body is not valid JSON'), { status: 400 })
    }
    if (typeof parsed?.value !== 'string' || parsed.value === '') {
      throw Object.assign(new Error('expected {"value": "<non-empty string>"}'), { status: 400 })
    }
    return parsed.value
  }
  if (body === '') throw Object.assign(new Error('empty body'), { status: 400 })
  return body
}

async function route(req, res) {
  const url = new URL(req.url ?? '/', 'http://app')
  const path = url.pathname
  if (req.method === 'GET' && path === '/') {
    return send(res, 200, {
      host,
      release: cfg.release,
      pid: process.pid,
      node: process.version,
      startedAt: started.toISOString(),
      time: new Date().toISOString(),
    })
  }
  if (req.method === 'GET' && path === '/health') {
    if (draining) return send(res, 503, { ok: false, host, release: cfg.release, reason: 'shutting down' })
    try {
      await db.health()
      return send(res, 200, { ok: true, host, release: cfg.release })
    } catch (err) {
      return send(res, 503, { ok: false, host, release: cfg.release, reason: `database: ${err.code ?? err.message}` })
    }
  }
  if (req.method === 'POST' && path === '/items') {
    const value = parseValue(await readBody(req), req.headers['content-type'])
    const id = await db.insert(value, host)
    return send(res, 201, { id, host, release: cfg.release }, { Location: `/items/${id}` })
  }
  const item = /^\/items\/(\d{1,18})$/.exec(path)
  if (req.method === 'GET' && item) {
    const row = await db.read(item[1])
    return row ? send(res, 200, { ...row, id: Number(row.id), readBy: host }) : send(res, 404, { error: 'no such item', readBy: host })
  }
  if (req.method === 'GET' && path.startsWith('/static/')) {
    if (await serveStatic(`${here}public`, path.slice('/static/'.length), res, draining)) return
  }
  return send(res, 404, { error: 'not found' })
}

const server = http.createServer((req, res) => {
  inFlight++
  res.on('close', () => inFlight--)
  res.setHeader('X-App-Host', host)
  res.setHeader('X-App-Release', cfg.release)
  route(req, res).catch((err) => {
    const status = err.status ?? (UNAVAILABLE.has(err.code) ? 503 : 500)
    if (status >= 500) console.error(`${req.method} ${req.url}: ${err.stack ?? err}`)
    if (!res.headersSent) send(res, status, { error: status === 503 ? 'database unavailable' : status >= 500 ? 'internal error' : err.message })
    else res.destroy()
  })
})
server.keepAliveTimeout = 65_000 // longer than the proxy's idle keep-alive, so the proxy closes first

function shutdown(signal) {
  if (draining) return
  draining = true
  console.log(`${signal}: draining ${inFlight} request(s) in flight`)
  const force = setTimeout(() => {
    console.error(`shutdown: ${inFlight} request(s) still in flight after ${cfg.shutdownTimeoutMs} ms, exiting`)
    process.exit(1)
  }, cfg.shutdownTimeoutMs)
  force.unref()
  server.close(async () => {
    await db.close()
    console.log('shutdown complete')
    process.exit(0)
  })
  // Node 18 keeps idle keep-alive connections open across close(): end them now;
  // busy ones end after their response (Connection: close above)
  server.closeIdleConnections()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))

server.listen(cfg.port, cfg.bind, () => {
  console.log(`listening on ${cfg.bind}:${cfg.port}, release ${cfg.release}`)
  db.ensureSchema().catch((err) => console.error(`schema not ready yet (will retry on first write): ${err.code ?? err.message}`))
})
