import { expect } from 'chai'
import { emptyStats, HostKeyError, UnreachableError, type Connection } from '../../../src/ssh/connection.ts'
import { ConnectionPool, type PoolOptions } from '../../../src/ssh/pool.ts'
import { endpointOf, type Endpoint } from '../../../src/ssh/endpoint.ts'
import type { HostInfo } from '../../../src/inventory/types.ts'
import { hostInfo } from './host-info.ts'

/** A connection that only records whether it was closed, and whom it was handed to. */
function fakeConnection(host: string): Connection & { closed: boolean; boundTo?: HostInfo } {
  return {
    host,
    closed: false,
    rebind(info: HostInfo) {
      this.boundTo = info
    },
    stats: { ...emptyStats(), execs: 3 },
    exec: async () => ({ code: 0, stdout: '', stderr: '' }),
    put: async () => undefined,
    get: async () => Buffer.alloc(0),
    async close() {
      this.closed = true
    },
  }
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

describe('ConnectionPool', () => {
  it('connects each host once and shares the connection', async () => {
    const calls: string[] = []
    const pool = new ConnectionPool({
      connect: async (h) => {
        calls.push(h.name)
        await tick()
        return fakeConnection(h.name)
      },
    })
    const web1 = hostInfo({ name: 'web1' })
    const [a, b] = await Promise.all([pool.get(web1), pool.get(web1)])
    const c = await pool.get(web1)
    await pool.get(hostInfo({ name: 'web2' }))
    expect(a).to.equal(b).and.to.equal(c)
    expect(calls).to.deep.equal(['web1', 'web2'])
    expect(pool.statsOf('web1').execs).to.equal(3)
    expect(pool.statsOf('never')).to.deep.equal(emptyStats())
  })

  it('remembers a failed connect as that host’s UnreachableError, wrapping plain errors', async () => {
    let calls = 0
    const pool = new ConnectionPool({
      connect: async (h) => {
        calls++
        throw h.name === 'db1' ? new UnreachableError('db1', 'connection refused') : new Error('boom')
      },
    })
    const e1 = await pool.get(hostInfo({ name: 'db1' })).catch((e: unknown) => e)
    const e2 = await pool.get(hostInfo({ name: 'db1' })).catch((e: unknown) => e)
    expect(e1).to.be.instanceOf(UnreachableError).and.to.equal(e2)
    expect((e1 as Error).message).to.equal('db1: unreachable: connection refused')
    const e3 = await pool.get(hostInfo({ name: 'db2' })).catch((e: unknown) => e)
    expect(e3).to.be.instanceOf(UnreachableError)
    expect((e3 as Error).message).to.equal('db2: unreachable: boom')
    expect(calls).to.equal(2)
  })

  it('caps handshakes in flight', async () => {
    let inFlight = 0
    let peak = 0
    const pool = new ConnectionPool({
      maxHandshakes: 3,
      connect: async (h: HostInfo) => {
        peak = Math.max(peak, ++inFlight)
        await tick()
        inFlight--
        return fakeConnection(h.name)
      },
    })
    await Promise.all(Array.from({ length: 10 }, (_, i) => pool.get(hostInfo({ name: `h${i}` }))))
    expect(peak).to.equal(3)
  })

  it('closeAll closes every connection, including one whose handshake was still in flight, and tolerates failed ones', async () => {
    const made: ReturnType<typeof fakeConnection>[] = []
    const pool = new ConnectionPool({
      connect: async (h) => {
        await tick(h.name === 'slow' ? 30 : 1)
        if (h.name === 'bad') throw new UnreachableError('bad', 'connection refused')
        const c = fakeConnection(h.name)
        made.push(c)
        return c
      },
    })
    await pool.get(hostInfo({ name: 'fast' }))
    void pool.get(hostInfo({ name: 'slow' }))
    void pool.get(hostInfo({ name: 'bad' })).catch(() => undefined)
    await pool.closeAll()
    expect(made.map((c) => [c.host, c.closed])).to.deep.equal([
      ['fast', true],
      ['slow', true],
    ])
    expect(pool.statsOf('fast').execs).to.equal(3)
  })
})

describe('ConnectionPool.preconnect: connections opened before the run asks', () => {
  /** A pool whose connects are recorded with the options each was given. */
  function recordingPool(fail?: (h: HostInfo, opts: PoolOptions) => Error | undefined) {
    const calls: { host: HostInfo; acceptNew: boolean }[] = []
    const made: ReturnType<typeof fakeConnection>[] = []
    const pool = new ConnectionPool({
      acceptNewHostKeys: true,
      connect: async (h, opts) => {
        calls.push({ host: h, acceptNew: Boolean(opts.acceptNewHostKeys) })
        await tick(2)
        const err = fail?.(h, opts)
        if (err) throw err
        const c = fakeConnection(h.name)
        made.push(c)
        return c
      },
    })
    return { pool, calls, made }
  }
  const web1 = hostInfo({ name: 'web1', address: '10.0.0.1', become: true, ssh: { identityFile: '/k', knownHosts: '/kh', becomePassword: undefined } })
  const early = (h: HostInfo): Endpoint => endpointOf(h)!

  it('hands the early connection to the run when the endpoint is the same: one handshake, rebound to the run\'s host', async () => {
    const { pool, calls, made } = recordingPool()
    pool.preconnect([early(web1)])
    const c = await pool.get(web1)
    expect(calls).to.have.length(1)
    expect(calls[0]!.acceptNew, 'an early connection never learns a host key').to.equal(false)
    expect(c).to.equal(made[0])
    expect((c as ReturnType<typeof fakeConnection>).boundTo).to.equal(web1)
    expect(pool.preconnected).to.deep.equal({ opened: 1, used: 1 })
    expect(pool.connectedHosts()).to.deep.equal([web1])
  })

  it('closes an early connection whose endpoint differs from the run\'s host and connects as the run asks', async () => {
    const { pool, calls, made } = recordingPool()
    pool.preconnect([early(hostInfo({ name: 'web1', address: '10.0.0.1', port: 2222, ssh: { identityFile: '/k', knownHosts: '/kh' } }))])
    const c = await pool.get(web1)
    await tick(5)
    expect(calls.map((x) => [x.host.port, x.acceptNew])).to.deep.equal([
      [2222, false],
      [22, true],
    ])
    expect(made[0]!.closed, 'the early one').to.equal(true)
    expect(c).to.equal(made[1])
    expect(pool.preconnected).to.deep.equal({ opened: 1, used: 0 })
  })

  it('connects again when the early connection refused an unknown host key; any other failure is the host\'s result', async () => {
    const keyPool = recordingPool((h, opts) => (opts.acceptNewHostKeys ? undefined : new HostKeyError(h.name, 'not in known_hosts', 'SHA256:x')))
    keyPool.pool.preconnect([early(web1)])
    expect(await keyPool.pool.get(web1)).to.equal(keyPool.made[0])
    expect(keyPool.calls.map((x) => x.acceptNew)).to.deep.equal([false, true])

    const downPool = recordingPool((h) => new UnreachableError(h.name, 'connection refused'))
    downPool.pool.preconnect([early(web1)])
    const err = await downPool.pool.get(web1).catch((e: unknown) => e)
    expect((err as Error).message).to.equal('web1: unreachable: connection refused')
    expect(downPool.calls, 'one attempt, not two').to.have.length(1)
  })

  it('closeAll closes early connections the run never asked for', async () => {
    const { pool, made } = recordingPool()
    pool.preconnect([early(web1), early(hostInfo({ name: 'web2', address: '10.0.0.2' }))])
    await pool.get(web1)
    await pool.closeAll()
    expect(made.map((c) => [c.host, c.closed])).to.have.deep.members([
      ['web1', true],
      ['web2', true],
    ])
    expect(pool.preconnected).to.deep.equal({ opened: 2, used: 1 })
  })

  it('settles once every early connection is up with its channel opened ahead, or has failed; it never rejects', async () => {
    const opened: { host: string; command: string; open: () => void }[] = []
    const pool = new ConnectionPool({
      connect: async (h) => {
        await tick(2)
        if (h.name === 'down') throw new UnreachableError(h.name, 'connection refused')
        return { ...fakeConnection(h.name), openAhead: (command: string) => new Promise<void>((open) => opened.push({ host: h.name, command, open })) }
      },
    })
    let settled = false
    const up = pool.preconnect([early(web1), early(hostInfo({ name: 'down', address: '10.0.0.9' })), early(hostInfo({ name: 'web2', address: '10.0.0.2' }))], { openAhead: 'sh -s' })
    void up.then(() => (settled = true))
    await tick(20)
    expect(opened.map((o) => [o.host, o.command])).to.have.deep.members([
      ['web1', 'sh -s'],
      ['web2', 'sh -s'],
    ])
    expect(settled, 'web1 and web2 are up, their channels not yet open').to.equal(false)
    opened.find((o) => o.host === 'web1')!.open()
    await tick()
    expect(settled, 'web2 still opening').to.equal(false)
    opened.find((o) => o.host === 'web2')!.open()
    await up
    expect(settled).to.equal(true)
    // without openAhead, being up is enough
    const plain = recordingPool()
    await plain.pool.preconnect([early(web1)])
    expect(plain.made).to.have.length(1)
  })

  it('closeAll abandons a handshake still in flight (an early connection the run never took) instead of waiting for its timeout', async () => {
    const seen: AbortSignal[] = []
    const pool = new ConnectionPool({
      connect: (h, opts) =>
        new Promise<Connection>((resolve, reject) => {
          if (h.name === 'web1') return resolve(fakeConnection(h.name))
          // a host that took the TCP connection and never answers: only the signal ends it before the test's own timeout
          seen.push(opts.signal!)
          opts.signal!.addEventListener('abort', () => reject(new UnreachableError(h.name, 'abandoned')))
        }),
    })
    pool.preconnect([early(web1), early(hostInfo({ name: 'silent', address: '10.0.0.9' }))])
    const c = await pool.get(web1)
    await tick()
    expect(seen, 'the silent host is being connected').to.have.length(1)
    await pool.closeAll()
    expect(seen[0]!.aborted).to.equal(true)
    expect((c as ReturnType<typeof fakeConnection>).closed).to.equal(true)
    // the pool is usable after: a new connection gets a signal not yet aborted
    const later = new ConnectionPool({ connect: async (h, opts) => (seen.push(opts.signal!), fakeConnection(h.name)) })
    await later.closeAll()
    await later.get(web1)
    expect(seen.at(-1)!.aborted).to.equal(false)
  })

  it('never opens early what needs a secret or a bastion', () => {
    const secret = { reveal: () => 'x' } as never
    expect(endpointOf(hostInfo({ ssh: { password: secret } }))).to.equal(undefined)
    expect(endpointOf(hostInfo({ ssh: { identityFile: '/k', passphrase: secret } }))).to.equal(undefined)
    expect(endpointOf({ ...hostInfo(), jump: hostInfo({ name: 'bastion' }) })).to.equal(undefined)
    expect(endpointOf(hostInfo({ name: 'a', ssh: { identityFile: '/k', becomePassword: secret } }))).to.deep.equal({ name: 'a', address: '127.0.0.1', port: 22, user: 'root', identityFile: '/k' })
  })
})
