import { expect } from 'chai'
import { hostsFileText } from '../../../src/lab/host-disk.ts'
import { knownHostsText } from '../../../src/lab/ssh-trust.ts'

const fleet = [
  { name: 'web-01', address: '10.77.0.11' },
  { name: 'db-03', address: '10.77.0.14' },
]

describe('lab host files', function () {
  it('writes a fresh /etc/hosts with localhost and every lab host', function () {
    const text = hostsFileText(undefined, fleet)
    expect(text).to.match(/^127\.0\.0\.1\tlocalhost$/m)
    expect(text).to.match(/^10\.77\.0\.11\tweb-01$/m)
    expect(text).to.match(/^10\.77\.0\.14\tdb-03$/m)
  })

  it('replaces only the lab block of an existing /etc/hosts, keeping the host\'s own lines', function () {
    const first = hostsFileText(undefined, fleet)
    const edited = first + '192.0.2.7\tapp.internal\n'
    const next = hostsFileText(edited, [{ name: 'web-01', address: '10.77.0.11' }])
    expect(next).to.include('192.0.2.7\tapp.internal')
    expect(next).to.not.include('db-03')
    expect(next.match(/BEGIN muster lab hosts/g)).to.have.length(1)
    // stable: the same fleet gives the same text, so a running host's file is not rewritten for nothing
    expect(hostsFileText(next, [{ name: 'web-01', address: '10.77.0.11' }])).to.equal(next)
  })

  it('lists each host\'s keys under its name and its address in known_hosts', function () {
    const text = knownHostsText([{ name: 'web-01', address: '10.77.0.11', publicKeys: ['ssh-ed25519 AAAAkey root@web-01', 'ecdsa-sha2-nistp256 BBBBkey root@web-01'] }])
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).to.deep.equal([
      'web-01,10.77.0.11 ssh-ed25519 AAAAkey',
      'web-01,10.77.0.11 ecdsa-sha2-nistp256 BBBBkey',
    ])
  })
})
