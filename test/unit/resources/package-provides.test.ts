import { expect } from 'chai'
import { PACKAGE_TABLE, installPredictions, packageClosure, removePredictions } from '../../../src/resources/package-provides.ts'
import { isUnknown, type Prediction } from '../../../src/contract/fact.ts'

function exact(preds: readonly Prediction[]): Map<string, unknown> {
  const m = new Map<string, unknown>()
  for (const p of preds) if ('query' in p) m.set(`${p.query.kind.name} ${p.query.key}`, p.value)
  return m
}

describe('package-provides table', () => {
  it('covers the reference stack', () => {
    expect(Object.keys(PACKAGE_TABLE)).to.include.members(['nginx', 'haproxy', 'mariadb-server', 'nodejs', 'tinyproxy', 'keepalived', 'nftables', 'prometheus-node-exporter'])
  })

  it('names every companion it lists, and paths are absolute and exact', () => {
    for (const [pkg, facts] of Object.entries(PACKAGE_TABLE)) {
      for (const w of facts.with ?? []) expect(PACKAGE_TABLE, `${pkg} comes with ${w}`).to.have.property(w)
      for (const p of [...Object.keys(facts.paths ?? {}), ...Object.keys(facts.created ?? {})]) {
        expect(p, `${pkg}: ${p}`).to.match(/^\/[^\s]*[^/]$/)
      }
      expect(facts.verified, pkg).to.match(/^(\d+:)?\d[\w.+~-]*$/)
    }
  })

  it('firstInstallOnly names paths a maintainer script makes (created), nothing else', () => {
    for (const [pkg, facts] of Object.entries(PACKAGE_TABLE)) {
      for (const p of facts.firstInstallOnly ?? []) expect(facts.created ?? {}, `${pkg}: ${p}`).to.have.property(p)
    }
    expect(PACKAGE_TABLE['nginx-common']!.firstInstallOnly).to.deep.equal(['/etc/nginx/sites-enabled/default'])
  })

  it('follows companions: mariadb-server brings the client and its core', () => {
    expect(packageClosure('mariadb-server')).to.deep.equal([
      'mariadb-server', 'mariadb-server-core', 'mariadb-client', 'mariadb-client-core', 'mariadb-common', 'mysql-common',
    ])
    expect(packageClosure('nginx:amd64')).to.deep.equal(['nginx', 'nginx-common'])
  })

  it('mariadb-server: config dir, datadir, user, unit, the mysql client', () => {
    const m = exact(installPredictions('mariadb-server'))
    expect(m.get('path /etc/mysql')).to.deep.include({ type: 'directory' })
    expect(m.get('path /etc/mysql/mariadb.conf.d')).to.deep.include({ type: 'directory' })
    expect(m.get('path /var/lib/mysql')).to.deep.include({ type: 'directory', owner: 'mysql', group: 'mysql' })
    expect(m.get('path /usr/bin/mysql')).to.deep.include({ type: 'symlink', target: 'mariadb' })
    expect(m.get('user mysql')).to.deep.include({ exists: true, home: '/nonexistent', shell: '/bin/false', group: 'mysql' })
    expect(m.get('systemd-unit mariadb.service')).to.deep.include({ activeState: 'active', unitFileState: 'enabled' })
    expect(m.get('apt-package mariadb-client')).to.deep.include({ state: 'installed' })
  })

  it('keepalived is enabled but waits for its config; nftables is neither', () => {
    const m = new Map([...exact(installPredictions('keepalived')), ...exact(installPredictions('nftables'))])
    expect(m.get('systemd-unit keepalived.service')).to.deep.include({ activeState: 'inactive', unitFileState: 'enabled' })
    expect(m.get('systemd-unit nftables.service')).to.deep.include({ activeState: 'inactive', unitFileState: 'disabled' })
  })

  it('prometheus-node-exporter: the textfile directory it ships, /var/lib/prometheus chowned by its postinst, user, unit', () => {
    // roles/monitoring manages the textfile directory: check on bare must know the package makes it (0755, root)
    const m = exact(installPredictions('prometheus-node-exporter'))
    expect(m.get('path /var/lib/prometheus/node-exporter')).to.deep.equal({ type: 'directory', mode: '0755', owner: 'root', group: 'root', mtime: 0 })
    expect(m.get('path /var/lib/prometheus')).to.deep.include({ type: 'directory', owner: 'prometheus', group: 'prometheus' })
    expect(m.get('user prometheus')).to.deep.include({ exists: true, home: '/var/lib/prometheus', group: 'prometheus' })
    expect(m.get('systemd-unit prometheus-node-exporter.service')).to.deep.include({ activeState: 'active', unitFileState: 'enabled' })
  })

  it('nodejs brings /usr/bin/node', () => {
    expect(exact(installPredictions('nodejs')).get('path /usr/bin/node')).to.deep.include({ type: 'file', mode: '0755' })
  })

  it('removal: the binary and the unit whose file goes; a unit file left by a companion stays unknown', () => {
    const h = exact(removePredictions('haproxy'))
    expect(h.get('path /usr/sbin/haproxy')).to.deep.equal({ type: 'absent' })
    expect(h.get('systemd-unit haproxy.service')).to.deep.include({ loadState: 'not-found' })
    expect(h.has('path /etc/haproxy/haproxy.cfg')).to.equal(false) // conffiles stay on remove
    const n = exact(removePredictions('nginx'))
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
