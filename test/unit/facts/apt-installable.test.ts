import { expect } from 'chai'
import { aptInstallableFact } from '../../../src/facts/apt-installable.ts'
import { parseFixture } from '../../support/system-probe-fixture.ts'

describe('apt-installable fact', () => {
  it('asks apt-cache policy only for what one dpkg-query found not installed', () => {
    const script = aptInstallableFact.script(['nginx', 'curl'])
    expect(script).to.match(/^set -- nginx curl\n/)
    expect(script).to.contain(`dpkg-query -W -f='\${Package}|\${Architecture}|\${db:Status-Abbrev}\\n' "$@"`)
    expect(script).to.match(/\[ -z "\$missing" \] \|\| apt-cache policy \$missing 2>\/dev\/null$/)
  })

  it('reads installed packages and the candidates of the rest (recorded on Debian 12)', () => {
    const m = parseFixture(aptInstallableFact, 'mix')
    expect(m.get('curl')).to.deep.equal({ state: 'installed' })
    expect(m.get('libc6:amd64')).to.deep.equal({ state: 'installed' })
    expect(m.get('tzdata'), 'arch all').to.deep.equal({ state: 'installed' })
    expect(m.get('nginx')).to.deep.equal({ state: 'missing', candidate: '1.22.1-9+deb12u12' })
    expect(m.get('nosuchpkg-muster')).to.deep.equal({ state: 'missing', candidate: null })
    expect(m.get('ngnix'), 'a misspelt name').to.deep.equal({ state: 'missing', candidate: null })
  })

  it('fails loudly when apt-cache does not run', () => {
    expect(() => aptInstallableFact.parse('', ['nginx'], 127)).to.throw(/exited 127/)
  })
})
