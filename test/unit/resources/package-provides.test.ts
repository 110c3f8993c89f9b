import { expect } from 'chai'
import { PACKAGE_EDITIONS, editionFor, installPredictions, packageClosure, removePredictions, upstreamOf } from '../../../src/resources/package-provides.ts'
import { isUnknown, type Prediction } from '../../../src/contract/fact.ts'

function exact(preds: readonly Prediction[]): Map<string, unknown> {
  const m = new Map<string, unknown>()
  for (const p of preds) if ('query' in p) m.set(`${p.query.kind.name} ${p.query.key}`, p.value)
  return m
}

// a Debian 12 host, as its base-files says (apt has no lists yet: no candidate)
const D12 = { baseFiles: '12.4+deb12u13' }
const D13 = { baseFiles: '13.8' }

describe('package-provides table', () => {
  it('covers the reference stack, in every edition, the same packages', () => {
    for (const e of PACKAGE_EDITIONS) {
      expect(Object.keys(e.table), e.name).to.include.members(['nginx', 'haproxy', 'mariadb-server', 'nodejs', 'tinyproxy', 'keepalived', 'nftables', 'prometheus-node-exporter'])
      expect(Object.keys(e.table).sort(), e.name).to.deep.equal(Object.keys(PACKAGE_EDITIONS[0]!.table).sort())
    }
    expect(PACKAGE_EDITIONS.map((e) => e.baseFiles)).to.deep.equal(['12', '13'])
  })

  it('names every companion it lists, and paths are absolute and exact', () => {
    for (const e of PACKAGE_EDITIONS) {
      for (const [pkg, facts] of Object.entries(e.table)) {
        for (const w of facts.with ?? []) expect(e.table, `${e.name}: ${pkg} comes with ${w}`).to.have.property(w)
        for (const p of [...Object.keys(facts.paths ?? {}), ...Object.keys(facts.created ?? {})]) {
          expect(p, `${e.name}: ${pkg}: ${p}`).to.match(/^\/[^\s]*[^/]$/)
        }
        expect(facts.verified, pkg).to.match(/^(\d+:)?\d[\w.+~-]*$/)
      }
    }
  })

  it('firstInstallOnly names paths a maintainer script makes (created), nothing else', () => {
    for (const e of PACKAGE_EDITIONS) {
      for (const [pkg, facts] of Object.entries(e.table)) {
        for (const p of facts.firstInstallOnly ?? []) expect(facts.created ?? {}, `${e.name}: ${pkg}: ${p}`).to.have.property(p)
      }
      expect(e.table['nginx-common']!.firstInstallOnly).to.deep.equal(['/etc/nginx/sites-enabled/default'])
    }
  })

  it('upstream versions: no epoch, no Debian revision', () => {
    expect(upstreamOf('1:10.11.19-0+deb12u1')).to.equal('10.11.19')
    expect(upstreamOf('1:11.8.9+ds-0+deb13u1')).to.equal('11.8.9+ds')
    expect(upstreamOf('5.8+1.1.0')).to.equal('5.8+1.1.0')
    expect(upstreamOf('1.5.0-1+b6')).to.equal('1.5.0')
  })

  // which edition describes an install, from what the host says: never from a release name
  const choices: { what: string; pkg: string; hint: Parameters<typeof editionFor>[1]; edition: string | undefined }[] = [
    { what: 'the candidate verified on Debian 12', pkg: 'nginx', hint: { candidate: '1.22.1-9+deb12u11', ...D13 }, edition: '12' },
    { what: 'a later Debian revision of the same upstream (a security update)', pkg: 'nginx', hint: { candidate: '1.22.1-9+deb12u14' }, edition: '12' },
    { what: "Debian 13's candidate", pkg: 'mariadb-server', hint: { candidate: '1:11.8.9+ds-0+deb13u1' }, edition: '13' },
    { what: 'a point release of the same series (a stable update)', pkg: 'mariadb-server', hint: { candidate: '1:10.11.21-0+deb12u1' }, edition: '12' },
    { what: 'the same series in both: the host release decides', pkg: 'tinyproxy', hint: { candidate: '1.11.9-1', ...D13 }, edition: '13' },
    { what: 'an upstream no edition knows (a third-party repository)', pkg: 'nginx', hint: { candidate: '1.27.4-1~bookworm', ...D12 }, edition: undefined },
    { what: 'no lists yet: the release of base-files', pkg: 'nginx', hint: { candidate: null, ...D13 }, edition: '13' },
    { what: 'no lists yet on Debian 12', pkg: 'haproxy', hint: { candidate: null, ...D12 }, edition: '12' },
    { what: 'offered by a repository added in the same run', pkg: 'nginx', hint: { candidate: null, offeredBy: 'nginx-org', ...D12 }, edition: undefined },
    { what: 'a release no edition has', pkg: 'nginx', hint: { candidate: null, baseFiles: '14.1' }, edition: undefined },
    { what: 'nothing known', pkg: 'nginx', hint: {}, edition: undefined },
  ]
  for (const c of choices) {
    it(`edition: ${c.what}`, () => expect(editionFor(c.pkg, c.hint)?.baseFiles).to.equal(c.edition))
  }

  it('an install no edition describes: every path, unit and user any edition names is unknown, with the version in the reason', () => {
    const m = exact(installPredictions('nginx', { candidate: '1.27.4-1~bookworm', ...D12 }))
    const conf = m.get('path /etc/nginx/nginx.conf')
    expect(isUnknown(conf) && conf.reason).to.equal("nginx 1.27.4-1~bookworm: a version muster's package table was not verified against")
    expect(isUnknown(m.get('path /lib/systemd/system/nginx.service'))).to.equal(true)
    expect(isUnknown(m.get('path /usr/lib/systemd/system/nginx.service'))).to.equal(true)
    expect(isUnknown(m.get('systemd-unit nginx.service'))).to.equal(true)
    expect(isUnknown(m.get('apt-package nginx-common'))).to.equal(true)
  })

  it('Debian 13: its own bytes, unit files under /usr/lib, no 50-mysql-clients.cnf, its adduser GECOS', () => {
    const n12 = exact(installPredictions('nginx', D12))
    const n13 = exact(installPredictions('nginx', D13))
    expect((n12.get('path /etc/nginx/nginx.conf') as { sha256: string }).sha256).to.not.equal((n13.get('path /etc/nginx/nginx.conf') as { sha256: string }).sha256)
    expect(n13.has('path /usr/lib/systemd/system/nginx.service')).to.equal(true)
    expect(n12.has('path /lib/systemd/system/nginx.service')).to.equal(true)
    const m13 = exact(installPredictions('mariadb-server', D13))
    expect(m13.has('path /etc/mysql/mariadb.conf.d/50-mysql-clients.cnf')).to.equal(false)
    expect(m13.get('user mysql')).to.deep.include({ gecos: 'MariaDB Server' })
    expect(exact(installPredictions('mariadb-server', D12)).get('user mysql')).to.deep.include({ gecos: 'MySQL Server,,,' })
  })

  it('follows companions: mariadb-server brings the client and its core', () => {
    expect(packageClosure('mariadb-server')).to.deep.equal([
      'mariadb-server', 'mariadb-server-core', 'mariadb-client', 'mariadb-client-core', 'mariadb-common', 'mysql-common',
    ])
    expect(packageClosure('nginx:amd64')).to.deep.equal(['nginx', 'nginx-common'])
  })

  it('mariadb-server: config dir, datadir, user, unit, the mysql client', () => {
    const m = exact(installPredictions('mariadb-server', D12))
    expect(m.get('path /etc/mysql')).to.deep.include({ type: 'directory' })
    expect(m.get('path /etc/mysql/mariadb.conf.d')).to.deep.include({ type: 'directory' })
    expect(m.get('path /var/lib/mysql')).to.deep.include({ type: 'directory', owner: 'mysql', group: 'mysql' })
    expect(m.get('path /usr/bin/mysql')).to.deep.include({ type: 'symlink', target: 'mariadb' })
    expect(m.get('user mysql')).to.deep.include({ exists: true, home: '/nonexistent', shell: '/bin/false', group: 'mysql' })
    expect(m.get('systemd-unit mariadb.service')).to.deep.include({ activeState: 'active', unitFileState: 'enabled' })
    expect(m.get('apt-package mariadb-client')).to.deep.include({ state: 'installed' })
  })

  it('keepalived is enabled but waits for its config; nftables is neither', () => {
    const m = new Map([...exact(installPredictions('keepalived', D12)), ...exact(installPredictions('nftables', D12))])
    expect(m.get('systemd-unit keepalived.service')).to.deep.include({ activeState: 'inactive', unitFileState: 'enabled' })
    expect(m.get('systemd-unit nftables.service')).to.deep.include({ activeState: 'inactive', unitFileState: 'disabled' })
  })

  it('prometheus-node-exporter: the textfile directory it ships, /var/lib/prometheus chowned by its postinst, user, unit', () => {
    // roles/monitoring manages the textfile directory: check on bare must know the package makes it (0755, root)
    const m = exact(installPredictions('prometheus-node-exporter', D12))
    expect(m.get('path /var/lib/prometheus/node-exporter')).to.deep.equal({ type: 'directory', mode: '0755', owner: 'root', group: 'root', mtime: 0 })
    expect(m.get('path /var/lib/prometheus')).to.deep.include({ type: 'directory', owner: 'prometheus', group: 'prometheus' })
    expect(m.get('user prometheus')).to.deep.include({ exists: true, home: '/var/lib/prometheus', group: 'prometheus' })
    expect(m.get('systemd-unit prometheus-node-exporter.service')).to.deep.include({ activeState: 'active', unitFileState: 'enabled' })
  })

  it('nodejs brings /usr/bin/node', () => {
    expect(exact(installPredictions('nodejs', D12)).get('path /usr/bin/node')).to.deep.include({ type: 'file', mode: '0755' })
  })

  it('removal: the binary and the unit whose file goes; a unit file left by a companion stays unknown', () => {
    const h = exact(removePredictions('haproxy', '2.6.12-1+deb12u4'))
    expect(h.get('path /usr/sbin/haproxy')).to.deep.equal({ type: 'absent' })
    expect(h.get('systemd-unit haproxy.service')).to.deep.include({ loadState: 'not-found' })
    expect(h.has('path /etc/haproxy/haproxy.cfg')).to.equal(false) // conffiles stay on remove
    const n = exact(removePredictions('nginx', '1.22.1-9+deb12u11'))
    expect(n.get('path /usr/sbin/nginx')).to.deep.equal({ type: 'absent' })
    expect(isUnknown(n.get('systemd-unit nginx.service'))).to.equal(true)
  })

  it('a package outside the table: unknown, with the reason', () => {
    const preds = installPredictions('php8.2-fpm')
    const unit = exact(preds).get('systemd-unit php8.2-fpm.service')
    expect(isUnknown(unit) && unit.reason).to.equal('may be created by package php8.2-fpm')
    expect(preds.some((p) => 'prefix' in p && p.prefix === '/etc/php8.2-fpm/')).to.equal(true)
  })
})

describe('package predictions laid over a bare host (check mode)', () => {
  it('a service and files after apt(nginx) plan as apply will; unrelated paths keep their probed state', async () => {
    const { FactCache } = await import('../../../src/engine/fact-cache.ts')
    const { apt } = await import('../../../src/resources/apt.ts')
    const { service } = await import('../../../src/resources/service.ts')
    const { systemdUnit, systemdUnitFact } = await import('../../../src/facts/systemd-unit.ts')
    const { aptPackage, aptPackageFact } = await import('../../../src/facts/apt-package.ts')
    const { pathState } = await import('../../../src/facts/path.ts')
    const { fixtureValue } = await import('../../support/system-probe-fixture.ts')

    const cache = new FactCache()
    // what a bare lab host answered: nginx unknown to dpkg, no nginx.service, nothing under /etc/nginx
    cache.setAll(
      new Map<string, unknown>([
        [`apt-package\u0000nginx`, fixtureValue(aptPackageFact, 'web-01-bare', 'nginx')],
        [`systemd-unit\u0000nginx.service`, fixtureValue(systemdUnitFact, 'not-found', 'nginx.service')],
        [`path\u0000/etc/nginx/conf.d/app.conf`, { type: 'absent' }],
      ]),
    )
    const { aptInstallableFact } = await import('../../../src/facts/apt-installable.ts')
    const install = apt('nginx').plan({ 'pkg:nginx': cache.get(aptPackage('nginx')), 'avail:nginx': fixtureValue(aptInstallableFact, 'mix', 'nginx') } as never)
    if (install.kind !== 'change') throw new Error('expected a change')
    cache.overlay(install.predicts ?? [])

    const svc = service('nginx', { running: true, enabled: true }).plan({ unit: cache.get(systemdUnit('nginx')) } as never)
    expect(svc.kind).to.equal('ok')
    expect(cache.get(pathState('/etc/nginx/sites-enabled/default'))).to.deep.include({ type: 'symlink' })
    expect(cache.get(pathState('/etc/nginx/conf.d/app.conf'))).to.deep.equal({ type: 'absent' })
  })
})
