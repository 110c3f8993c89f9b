// The app without a database: `node --test` (Node 18+) from examples/app.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('..', import.meta.url))
const PORT = 20000 + Math.floor(Math.random() * 20000)
// the database is a closed port: /health must say 503, writes 503
const env = { ...process.env, DB_NAME: 'app', DB_USER: 'app', DB_PASSWORD: 'x', DB_PRIMARY_HOST: '127.0.0.1', DB_PRIMARY_PORT: '9', DB_LOCAL_HOST: '127.0.0.1', DB_LOCAL_PORT: '9', PORT: String(PORT), RELEASE_ID: 'test-release' }

function start() {
  const app = spawn(process.execPath, ['server.js'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve) => app.stdout.once('data', () => resolve(app)))
}

function get(path, opts = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: PORT, path, agent: false, ...opts }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }))
    })
    req.on('error', reject)
    if (opts.body === undefined) req.end()
    return req
  })
}

test('answers who it is, says when its database is away, serves public/', async () => {
  const app = await start()
  try {
    const root = await get('/')
    assert.equal(root.status, 200)
    assert.equal(JSON.parse(root.body).release, 'test-release')
    assert.equal(root.headers['x-app-release'], 'test-release')
    assert.equal((await get('/health')).status, 503)
    const css = await get('/static/app.css')
    assert.equal(css.status, 200)
    assert.equal(css.headers['x-served-by'], 'app')
    assert.equal((await get('/static/../config.js')).status, 404)
  } finally {
    app.kill('SIGKILL')
  }
})

test('SIGTERM: refuses new connections, finishes the request in flight, exits 0', async () => {
  const app = await start()
  const exited = new Promise((resolve) => app.on('exit', (code) => resolve(code)))
  const answered = new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: PORT, path: '/items', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, body }))
    })
    req.on('error', reject)
    req.write('{"value":') // in flight: the body is not finished
    setTimeout(() => {
      app.kill('SIGTERM')
      setTimeout(async () => {
        await assert.rejects(get('/'), /ECONNREFUSED/)
        req.end('"x"}')
      }, 200)
    }, 200)
  })
  const r = await answered
  assert.equal(r.status, 503) // the database is away; the point is that it was answered
  assert.equal(r.connection, 'close')
  assert.equal(await exited, 0)
})
