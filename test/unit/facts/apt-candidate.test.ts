import { expect } from 'chai'
import { aptCandidateFact } from '../../../src/facts/apt-candidate.ts'
import { parseFixture } from '../../support/system-probe-fixture.ts'

describe('apt-candidate fact', () => {
  it('asks apt-cache policy once, in the C locale', () => {
    expect(aptCandidateFact.script(['nginx', 'curl'])).to.equal('LC_ALL=C apt-cache policy nginx curl 2>/dev/null')
  })

  it('reads installed and candidate versions (recorded on Debian 12)', () => {
    const m = parseFixture(aptCandidateFact, 'mix')
    expect(m.get('nginx')).to.deep.equal({ installed: null, candidate: '1.22.1-9+deb12u11' })
    expect(m.get('curl')).to.deep.equal({ installed: '7.88.1-10+deb12u14', candidate: '7.88.1-10+deb12u15' })
    expect(m.get('libc6')).to.deep.equal({ installed: '2.36-9+deb12u14', candidate: '2.36-9+deb12u14' })
    // apt prints the native architecture without its qualifier
    expect(m.get('libc6:amd64')).to.deep.equal(m.get('libc6'))
    expect(m.get('nosuchpkg-muster')).to.deep.equal({ installed: null, candidate: null })
  })

  it('fails loudly when apt-cache does not run', () => {
    expect(() => aptCandidateFact.parse('', ['nginx'], 127)).to.throw(/exited 127/)
  })
})
