import { expect } from 'chai'
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { preconnectKey, readPreconnectHint, sealedProbes, sendAheadOf, writePreconnect } from '../../../src/cli/preconnect.ts'
import { secret } from '../../../src/core/secret.ts'
import { scratchDirs } from '../../support/scratch.ts'
import { hostInfo } from '../ssh/host-info.ts'

/** The endpoints the last run with this key connected to, if none of its source files changed since. */
const hostsOf = (dir: string, key: string) => readPreconnectHint(dir, key).hosts

describe('preconnect hints: which hosts a run may connect to before its playbook loads', () => {
  const tmp = scratchDirs()
  after(() => tmp.removeAll())

  const key = (over: Partial<Parameters<typeof preconnectKey>[0]> = {}, env: NodeJS.ProcessEnv = {}) =>
    preconnectKey({ playbook: 'playbooks/site.ts', inventory: 'inventory/lab.ts', ...over }, '/project', env)

  it('is keyed by what selects the hosts: directory, playbook, inventory, --limit, --shard and the lab', () => {
    const base = key()
    expect(key()).to.equal(base)
    expect(preconnectKey({ playbook: '/project/playbooks/site.ts', inventory: '/project/inventory/lab.ts' }, '/project', {}), 'absolute or relative paths alike').to.equal(base)
    for (const other of [key({ limit: 'web-01' }), key({ shard: '0/2' }), key({ inventory: 'inventory/prod.ts' }), key({ playbook: 'playbooks/other.ts' }), key({}, { MUSTER_LAB_ID: '5' }), preconnectKey({ playbook: 'playbooks/site.ts', inventory: 'inventory/lab.ts' }, '/elsewhere', {})]) {
      expect(other).to.not.equal(base)
    }
  })

  it('gives the last run\'s endpoints while its files are unchanged, and nothing once one changes or goes', () => {
    const dir = tmp.make('muster-preconnect-')
    const pb = join(dir, 'site.ts')
    const inv = join(dir, 'hosts.ini')
    writeFileSync(pb, 'export default 1\n')
    writeFileSync(inv, 'web-01\n')
    const st = statSync(pb)
    const web = hostInfo({ name: 'web-01', address: '10.0.0.1', ssh: { identityFile: '/k', knownHosts: '/kh' } })
    writePreconnect(dir, 'k1', [[pb, st.mtimeMs, st.size], inv], [web])
    expect(hostsOf(dir, 'k1')).to.deep.equal([{ name: 'web-01', address: '10.0.0.1', port: 22, user: 'root', identityFile: '/k', knownHosts: '/kh' }])
    expect(hostsOf(dir, 'other key')).to.deep.equal([])
    expect(statSync(join(dir, 'preconnect.json')).mode & 0o777).to.equal(0o600)

    utimesSync(inv, new Date(), new Date(Date.now() + 5_000))
    expect(hostsOf(dir, 'k1'), 'the inventory was touched').to.deep.equal([])

    writePreconnect(dir, 'k1', [pb, inv], [web])
    expect(hostsOf(dir, 'k1')).to.have.length(1)
    writeFileSync(pb, 'export default 2\n')
    expect(hostsOf(dir, 'k1'), 'the playbook was edited').to.deep.equal([])
  })

  it('never records a host that needs a secret or a bastion, nor the secret itself', () => {
    const dir = tmp.make('muster-preconnect-')
    const inv = join(dir, 'hosts.ini')
    writeFileSync(inv, 'x\n')
    const secret = { reveal: () => 'hunter2-secret' } as never
    writePreconnect(dir, 'k', [inv], [
      hostInfo({ name: 'pw', ssh: { password: secret } }),
      hostInfo({ name: 'pp', ssh: { identityFile: '/k', passphrase: secret } }),
      { ...hostInfo({ name: 'behind' }), jump: hostInfo({ name: 'bastion' }) },
      hostInfo({ name: 'plain', ssh: { becomePassword: secret } }),
    ])
    const text = readFileSync(join(dir, 'preconnect.json'), 'utf8')
    expect(hostsOf(dir, 'k').map((e) => e.name)).to.deep.equal(['plain'])
    expect(text).to.not.contain('hunter2')
  })

  it('a state directory that cannot be written costs the hint, never the run', () => {
    const dir = tmp.make('muster-preconnect-')
    const notADir = join(dir, 'file')
    writeFileSync(notADir, 'x')
    expect(() => writePreconnect(join(notADir, 'state'), 'k', [notADir], [hostInfo({ name: 'a' })])).to.not.throw()
    expect(hostsOf(join(notADir, 'state'), 'k')).to.deep.equal([])
  })

  it('keeps the newest eight selections', () => {
    const dir = tmp.make('muster-preconnect-')
    const inv = join(dir, 'hosts.ini')
    writeFileSync(inv, 'x\n')
    for (let i = 0; i < 10; i++) writePreconnect(dir, `k${i}`, [inv], [hostInfo({ name: `h${i}` })])
    expect(hostsOf(dir, 'k9').map((e) => e.name)).to.deep.equal(['h9'])
    expect(hostsOf(dir, 'k2').map((e) => e.name)).to.deep.equal(['h2'])
    expect(hostsOf(dir, 'k1')).to.deep.equal([])
  })

  it('keeps each host\'s first probe, sealed, only when it is a read-only probe with no secret in it', () => {
    const probe = (body: string): string => `#!/bin/sh\n# muster: read-only probe\nexport LC_ALL=C\nprintf '%s S %s\\n' '__muster_0123456789ab__' 0\n(\n${body}\n)\n`
    secret('s3cret-in-a-probe')
    const first = new Map([
      ['plain', probe('stat /etc/motd')],
      ['secret', probe("mysql -e 'select 1' -ps3cret-in-a-probe")],
      ['not-a-probe', 'rm -rf /tmp/x\n'],
      ['unsealed', probe('stat /etc/hosts')],
      ['huge', probe('#'.repeat(300 * 1024))],
    ])
    const kept = sealedProbes(first, (host, script) => (host === 'unsealed' ? undefined : `seal of ${host} ${script.length}`))
    expect(Object.keys(kept)).to.deep.equal(['plain'])
    expect(kept.plain!.seal).to.equal(`seal of plain ${first.get('plain')!.length}`)

    const dir = tmp.make('muster-preconnect-')
    const inv = join(dir, 'hosts.ini')
    writeFileSync(inv, 'x\n')
    writePreconnect(dir, 'k', [inv], [hostInfo({ name: 'plain' })], { ...kept, gone: { script: probe('x'), seal: 'y' } })
    const hint = readPreconnectHint(dir, 'k')
    expect(Object.keys(hint.probes), 'only the run\'s own hosts').to.deep.equal(['plain'])
    const send = sendAheadOf(hint.probes)
    expect(send('plain')!.prepare(send('plain')!.script)).to.match(/__muster_(?!0123456789ab)[0-9a-f]{12}__/)
    expect(send('other')).to.equal(undefined)
    expect(send('__proto__')).to.equal(undefined)
  })
})

