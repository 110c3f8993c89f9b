import { expect } from 'chai'
import { aptPackage, aptPackageFact } from '../../../src/facts/apt-package.ts'
import { parseFixture } from '../../support/system-probe-fixture.ts'

describe('apt-package fact', () => {
  it('asks dpkg-query once for every package, names quoted', () => {
    const s = aptPackageFact.script(['nginx', 'libc6:amd64'])
    expect(s).to.match(/^dpkg-query -W -f='\$\{Package\}\\t\$\{Architecture\}\\t\$\{db:Status-Abbrev\}\\t\$\{Version\}\\n' nginx libc6:amd64 2>\/dev\/null$/)
  })

  it('refuses names that are not Debian package names', () => {
    expect(() => aptPackage('nginx; rm -rf /')).to.throw(/not a Debian package name/)
    expect(() => aptPackage('Nginx')).to.throw(/not a Debian package name/)
    expect(() => aptPackage('*')).to.throw(/not a Debian package name/)
  })

  it('reads installed, arch-qualified, arch:all and unknown packages (recorded on Debian 12)', () => {
    const m = parseFixture(aptPackageFact, 'installed-mix')
    expect(m.get('bash')).to.deep.equal({ state: 'installed', version: '5.2.15-2+b8', arch: 'amd64', held: false })
    expect(m.get('libc6:amd64')).to.deep.include({ state: 'installed', arch: 'amd64' })
    expect(m.get('tzdata')).to.deep.include({ state: 'installed', arch: 'all' })
    expect(m.get('nginx')).to.deep.equal({ state: 'not-installed' })
    expect(m.get('nosuchpkg-muster')).to.deep.equal({ state: 'not-installed' })
  })

  const table: [string, object][] = [
    ['dummy-installed', { state: 'installed', version: '1.0-1', arch: 'all', held: false }],
    ['dummy-config-files', { state: 'config-files', version: '1.0-1' }],
    ['dummy-unpacked', { state: 'broken', status: 'unpacked', version: '1.0-1' }],
    ['dummy-half-configured', { state: 'broken', status: 'half-configured', version: '1.0-1' }],
    ['dummy-purged', { state: 'not-installed' }],
  ]
  for (const [fixture, want] of table) {
    it(`reads dpkg state ${fixture}`, () => {
      expect(parseFixture(aptPackageFact, fixture).get('muster-fixture-dummy')).to.deep.equal(want)
    })
  }

  it('reads a held package and a not-installed (un) record', () => {
    const m = aptPackageFact.parse('a\tamd64\thi \t1.0\nb\tamd64\tun \t', ['a', 'b'], 0)
    expect(m.get('a')).to.deep.equal({ state: 'installed', version: '1.0', arch: 'amd64', held: true })
    expect(m.get('b')).to.deep.equal({ state: 'not-installed' })
  })

  it('prefers the installed instance of a multiarch package', () => {
    const m = aptPackageFact.parse('libx\ti386\trc \t1\nlibx\tamd64\tii \t2', ['libx', 'libx:i386'], 0)
    expect(m.get('libx')).to.deep.include({ state: 'installed', version: '2' })
    expect(m.get('libx:i386')).to.deep.equal({ state: 'config-files', version: '1' })
  })

  it('does not read a missing dpkg as "nothing installed"', () => {
    expect(() => aptPackageFact.parse('', ['nginx'], 127)).to.throw(/exited 127/)
    expect(() => aptPackageFact.parse('garbage', ['nginx'], 0)).to.throw(/unexpected dpkg-query line/)
  })
})
