import { expect } from 'chai'
import { emptyStats, UnreachableError, type Connection } from '../../../src/ssh/connection.ts'
import { ConnectionPool } from '../../../src/ssh/pool.ts'
import type { HostInfo } from '../../../src/inventory/types.ts'
import { hostInfo } from './host-info.ts'

/** A connection that only records whether it was closed. */
function fakeConnection(host: string): Connection & { closed: boolean } {
  return {
    host,
    closed: false,
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
