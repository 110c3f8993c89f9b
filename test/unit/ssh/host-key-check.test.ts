import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { HostKeyError } from '../../../src/ssh/connection.ts'
import { hostKeyAlgorithmsFor, lookUpHostKey, verifyHostKey, type HostKeyCheck } from '../../../src/ssh/host-key-check.ts'

const pubLine = (name: string): string =>
  readFileSync(new URL(`../../fixtures/ssh/${name}`, import.meta.url), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
const ED_LINE = pubLine('host_ed25519.pub')
const EC_LINE = pubLine('host_ecdsa.pub')
const ED = Buffer.from(ED_LINE.split(' ')[1], 'base64')
const EC = Buffer.from(EC_LINE.split(' ')[1], 'base64')
const ED_FP = /SHA256:\S+/.exec(readFileSync(new URL('../../fixtures/ssh/host_ed25519.pub.fingerprint', import.meta.url), 'utf8'))![0]

describe('host key check (known_hosts file)', () => {
  let dir: string
  let file: string
  const check = (over: Partial<HostKeyCheck> = {}): HostKeyCheck => ({ host: 'web1', address: '10.0.0.5', port: 2222, file, acceptNew: false, ...over })
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'muster-kh-'))
    file = join(dir, 'ssh', 'known_hosts')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('refuses an unknown host with host, key type, fingerprint, file and what to do', async () => {
    const e = await verifyHostKey(check(), ED).catch((x: unknown) => x)
    expect(e).to.be.instanceOf(HostKeyError)
    expect((e as HostKeyError).fingerprint).to.equal(ED_FP)
    expect((e as Error).message).to.equal(
      `web1: unreachable: host key for web1 (10.0.0.5:2222) is not known: ssh-ed25519 ${ED_FP} is not in ${file}; ` +
        'verify it, then run again with --accept-new-host-keys to record it',
    )
  })

  it('accept-new creates the dir 0700 and file 0600, appends [host]:port, and the next check accepts it without the flag', async () => {
    const r = await verifyHostKey(check({ acceptNew: true }), ED)
    expect(r).to.deep.equal({ recordedAt: `${file}:1`, appended: true })
    expect(await readFile(file, 'utf8')).to.equal(`[10.0.0.5]:2222 ${ED_LINE}\n`)
    expect((await stat(file)).mode & 0o777).to.equal(0o600)
    expect((await stat(join(dir, 'ssh'))).mode & 0o777).to.equal(0o700)
    expect(await verifyHostKey(check(), ED)).to.deep.equal({ recordedAt: `${file}:1`, appended: false })
  })

  it('appends after a last line without a newline, and reports the right line number', async () => {
    await verifyHostKey(check({ acceptNew: true, address: 'a', port: 22 }), ED)
    await writeFile(file, `# comment\na ${ED_LINE}`)
    const r = await verifyHostKey(check({ acceptNew: true, address: 'b', port: 22 }), EC)
    expect(r.recordedAt).to.equal(`${file}:3`)
    expect(await readFile(file, 'utf8')).to.equal(`# comment\na ${ED_LINE}\nb ${EC_LINE}\n`)
  })

  it('parallel first connects of the same host record it once', async () => {
    await Promise.all(Array.from({ length: 5 }, () => verifyHostKey(check({ acceptNew: true }), ED)))
    expect((await readFile(file, 'utf8')).trim().split('\n')).to.have.length(1)
  })

  it('a changed key is refused even with accept-new, naming file:line, and the file is left alone', async () => {
    const other = Buffer.from(ED)
    other[other.length - 1] ^= 1
    const before = `# first\n[10.0.0.5]:2222 ssh-ed25519 ${other.toString('base64')}\n`
    await verifyHostKey(check({ acceptNew: true, address: 'x' }), EC) // creates the dir
    await writeFile(file, before)
    const e = await verifyHostKey(check({ acceptNew: true }), ED).catch((x: unknown) => x)
    expect(e).to.be.instanceOf(HostKeyError)
    expect((e as Error).message).to.contain('HAS CHANGED').and.to.contain(`${file}:2`).and.to.contain(ED_FP)
    expect(await readFile(file, 'utf8')).to.equal(before)
  })

  it('a host known only with another key type is refused, not extended', async () => {
    await verifyHostKey(check({ acceptNew: true }), EC)
    const e = await verifyHostKey(check({ acceptNew: true }), ED).catch((x: unknown) => x)
    expect(e).to.be.instanceOf(HostKeyError)
    expect((e as Error).message).to.contain('records only ecdsa-sha2-nistp256')
  })

  it('lists the recorded algorithms of a host (none when the file is missing)', async () => {
    expect(await hostKeyAlgorithmsFor(file, '10.0.0.5', 2222)).to.deep.equal([])
    await verifyHostKey(check({ acceptNew: true }), EC)
    expect(await hostKeyAlgorithmsFor(file, '10.0.0.5', 2222)).to.deep.equal(['ecdsa-sha2-nistp256'])
  })

  it('one look-up per connection: the recorded types steer the handshake and the same lines judge the key', async () => {
    await verifyHostKey(check({ acceptNew: true }), EC)
    const found = await lookUpHostKey(check())
    expect(found.algorithms).to.deep.equal(['ecdsa-sha2-nistp256'])
    expect(await found.verify(EC)).to.deep.equal({ recordedAt: `${file}:1`, appended: false })
    const e = await found.verify(ED).catch((x: unknown) => x)
    expect((e as Error).message).to.contain('records only ecdsa-sha2-nistp256')
    // an unknown host with accept-new: recorded under the lock, as verifyHostKey does
    const other = await lookUpHostKey(check({ acceptNew: true, address: 'new-host', port: 22 }))
    expect(other.algorithms).to.deep.equal([])
    expect(await other.verify(ED)).to.deep.equal({ recordedAt: `${file}:2`, appended: true })
  })
})
