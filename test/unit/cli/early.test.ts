import { expect } from 'chai'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { EARLY_WAIT_MS, parseEarly, startEarly } from '../../../src/cli/early.ts'
import { takeEarly } from '../../../src/cli/early-handover.ts'
import { preconnectKey, writePreconnect } from '../../../src/cli/preconnect.ts'
import { scratchDirs } from '../../support/scratch.ts'
import { hostInfo } from '../ssh/host-info.ts'

describe('early start: the command line read before the CLI loads', () => {
  it('reads the selection of apply and check the way yargs does', () => {
    expect(parseEarly(['check', 'site.ts', '-i', 'inv.ts'])).to.deep.equal({ playbook: 'site.ts', inventory: 'inv.ts', acceptNewHostKeys: false, timeout: 10 })
    expect(parseEarly(['apply', '--inventory=inv.ts', 'site.ts', '--limit', 'web:&prod', '--shard', '1/3', '--timeout', '5', '--json', '-vv', '--accept-new-host-keys'])).to.deep.equal({
      playbook: 'site.ts',
      inventory: 'inv.ts',
      limit: 'web:&prod',
      shard: '1/3',
      acceptNewHostKeys: true,
      timeout: 5,
    })
    expect(parseEarly(['check', 'site.ts', '-i', 'inv.ts', '-l', '!db-03', '--no-typecheck', '--diff', '-f', '20', '--watch', '30'])).to.include({ limit: '!db-03' })
    expect(parseEarly(['apply', 'site.ts', '-i', 'inv.ts', '--check'])).to.include({ playbook: 'site.ts' })
    // the deadline the probe's channel opened ahead runs under, as the run's probe will ask (ms)
    expect(parseEarly(['check', 'site.ts', '-i', 'inv.ts', '--probe-timeout', '2.5'])).to.include({ probeTimeoutMs: 2500 })
    expect(parseEarly(['check', 'site.ts', '-i', 'inv.ts', '--probe-timeout=0'])).to.include({ probeTimeoutMs: 0 })
    expect(parseEarly(['check', 'site.ts', '-i', 'inv.ts', '--probe-timeout', '0.0001']), 'never rounded down to no limit').to.include({ probeTimeoutMs: 1 })
    // arrays take the words after them, as yargs's do: the playbook must come before, or after another option
    expect(parseEarly(['check', 'site.ts', '-e', 'a=1', 'b=2', '-i', 'inv.ts', '-t', 'nginx', 'app', '--skip-tags', 'x'])).to.include({ playbook: 'site.ts', inventory: 'inv.ts' })
    expect(parseEarly(['check', '-e', '{not json', '-i', 'inv.ts', 'site.ts'])).to.include({ playbook: 'site.ts' })
  })

  it('declines whatever it cannot be sure of: yargs alone reads those, and the run connects as usual', () => {
    for (const argv of [
      ['lab', 'up'],
      ['check', 'site.ts'], // no inventory
      ['check', '-i', 'inv.ts'], // no playbook
      ['check', 'a.ts', 'b.ts', '-i', 'inv.ts'],
      ['check', '-i', 'inv.ts', '-e', 'x=1', 'site.ts'], // the array took the playbook: no playbook
      ['check', 'site.ts', '-i', 'inv.ts', '--extra-vars=x=1'],
      ['check', 'site.ts', '-i', 'inv.ts', '--rerun', 'failed'],
      ['check', 'site.ts', '-i', 'inv.ts', '--workers', '2'],
      ['check', 'site.ts', '-i', 'inv.ts', '--help'],
      ['check', 'site.ts', '-i', 'inv.ts', '-i', 'other.ts'], // given twice
      ['check', 'site.ts', '-i', 'inv.ts', '-jv'], // grouped short flags
      ['check', 'site.ts', '-i', 'inv.ts', '--timeout', 'soon'],
      ['check', 'site.ts', '-i', 'inv.ts', '--probe-timeout', '-1'], // refused by the run itself
      ['check', 'site.ts', '-i', 'inv.ts', '--probe-timeout', '1e7'], // over a day: refused too
      ['check', 'site.ts', '-i'],
      ['check', '--', 'site.ts', '-i', 'inv.ts'],
      ['check', 'site.ts', '-i', 'inv.ts', '--json=true'],
    ]) {
      expect(parseEarly(argv), argv.join(' ')).to.equal(undefined)
    }
  })

  describe('the wait for the early handshakes', () => {
    const tmp = scratchDirs()
    const saved = { state: process.env.MUSTER_STATE_DIR, cache: process.env.MUSTER_CACHE_DIR, trace: process.env.MUSTER_TRACE }
    const sockets: net.Socket[] = []
    let silent: net.Server
    after(async () => {
      for (const [k, v] of [['MUSTER_STATE_DIR', saved.state], ['MUSTER_CACHE_DIR', saved.cache], ['MUSTER_TRACE', saved.trace]] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
      for (const s of sockets) s.destroy()
      await new Promise((r) => silent?.close(r))
      tmp.removeAll()
    })

    it('holds the CLI back at most EARLY_WAIT_MS: a host that takes the TCP connection and never answers delays it no longer', async () => {
      // a server that accepts and never sends its SSH identification: the handshake hangs until the run's own timeout
      silent = net.createServer((s) => void sockets.push(s))
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
      const port = (silent.address() as net.AddressInfo).port
      const dir = tmp.make('muster-early-wait-')
      const [pb, inv, keyFile, knownHosts] = ['site.ts', 'hosts.ini', 'id_rsa', 'known_hosts'].map((f) => join(dir, f)) as [string, string, string, string]
      writeFileSync(pb, 'export default []\n')
      writeFileSync(inv, 'quiet\n')
      writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey, { mode: 0o600 })
      writeFileSync(knownHosts, '')
      process.env.MUSTER_STATE_DIR = dir
      process.env.MUSTER_CACHE_DIR = join(dir, 'cache')
      delete process.env.MUSTER_TRACE
      writePreconnect(dir, preconnectKey({ playbook: pb, inventory: inv }), [pb, inv], [hostInfo({ name: 'quiet', address: '127.0.0.1', port, ssh: { identityFile: keyFile, knownHosts } })])

      const t0 = performance.now()
      await startEarly(['check', pb, '-i', inv])
      const waited = performance.now() - t0
      const early = takeEarly()
      try {
        expect(early, 'the early start was made and handed over').to.not.equal(undefined)
        expect(sockets, 'it connected to the silent host').to.have.length(1)
        expect(waited).to.be.at.least(EARLY_WAIT_MS - 2)
        expect(waited, 'and not for the handshake\'s own timeout (10 s)').to.be.below(EARLY_WAIT_MS + 2_000)
      } finally {
        const closing = performance.now()
        await early?.pool.closeAll()
        // the handshake still in flight is abandoned, not waited for until its timeout (10 s)
        expect(performance.now() - closing).to.be.below(2_000)
      }
    })

    it('does not wait when there is nothing to start', async () => {
      process.env.MUSTER_STATE_DIR = tmp.make('muster-early-none-')
      await startEarly(['check', 'site.ts', '-i', 'inv.ts'])
      await startEarly(['lab', 'up'])
      expect(takeEarly()).to.equal(undefined)
    })
  })
})

