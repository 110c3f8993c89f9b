import { expect } from 'chai'
import { apt, type AptOptions } from '../../../src/resources/apt.ts'
import { aptPackageFact, type AptPackageState } from '../../../src/facts/apt-package.ts'
import { aptCandidateFact, type AptCandidate } from '../../../src/facts/apt-candidate.ts'
import { aptInstallableFact, type AptInstallable } from '../../../src/facts/apt-installable.ts'
import { isUnknown, type Prediction } from '../../../src/contract/fact.ts'
import type { UnitState } from '../../../src/facts/systemd-unit.ts'
import { fixtureValue, parseFixture, planOf, commandsOf } from '../../support/system-probe-fixture.ts'
import { fixtureRelease, forEachRelease } from '../../support/fixture-release.ts'

const pkg = (fixture: string, name: string): AptPackageState => fixtureValue(aptPackageFact, fixture, name)
const cand = (name: string): AptCandidate => fixtureValue(aptCandidateFact, 'mix', name)
/** apt-installable/mix: recorded on the controller, where nginx, haproxy are not installed and nosuchpkg-muster does not exist */
const installable = (name: string): AptInstallable => fixtureValue(aptInstallableFact, 'mix', name)
const DUMMY = 'muster-fixture-dummy'
/** The host's release, as apt() reads it beside the packages (the recordings predate that read): Debian 12's base-files. */
const BASE_FILES = { 'pkg:base-files': { state: 'installed', version: '12.4+deb12u13', arch: 'amd64', held: false } }

/**
 * Facts for a resource's probe keys, from fixtures: pkg:<name> from `fixture`, cand:<name> from
 * apt-candidate/mix. Companions the resource also reads (nginx-common for nginx) come from the
 * fixture when it recorded them, else as not installed (the fixtures without them are of hosts
 * without the package).
 */
function observed(names: string[], fixture: string, withCandidates = false, opts: AptOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const n of names) {
    out[`pkg:${n}`] = pkg(fixture, n)
    if (withCandidates) out[`cand:${n}`] = cand(n)
  }
  const recorded = parseFixture(aptPackageFact, fixture)
  for (const key of Object.keys(apt(names, withCandidates ? { state: 'latest' } : opts).probe)) {
    if (key in out) continue
    if (key.startsWith('avail:')) {
      out[key] = installable(key.slice('avail:'.length))
      continue
    }
    const name = key.slice('pkg:'.length)
    out[key] = recorded.get(name) ?? { state: 'not-installed' }
  }
  return out
}

const APT_GET =
  'DEBIAN_FRONTEND=noninteractive apt-get -y -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold'

forEachRelease('apt resource', () => {
  // versions as each release's recording has them: the rows hold on both
  const v = (fixture: string, name: string): string => (pkg(fixture, name) as { version: string }).version
  const curl = v('installed-mix', 'curl')
  // fixture, packages, options, expected plan kind, summary (change) or detail (ok)
  const table: [string, string[], AptOptions, 'ok' | 'change' | 'fail', string][] = [
    ['installed-mix', ['curl'], {}, 'ok', `curl ${curl}`],
    ['installed-mix', ['bash', 'curl'], { state: 'present' }, 'ok', `bash ${v('installed-mix', 'bash')}, curl ${curl}`],
    ['web-01-bare', ['nginx'], {}, 'change', 'install nginx'],
    ['web-01-bare', ['nginx', 'curl', 'haproxy'], {}, 'change', 'install nginx, haproxy'],
    ['web-01-bare', ['curl'], { state: 'absent' }, 'change', 'remove curl'],
    ['web-01-bare', ['nginx', 'haproxy'], { state: 'absent' }, 'ok', 'nginx, haproxy not installed'],
    ['dummy-config-files', [DUMMY], { state: 'absent' }, 'ok', `${DUMMY} not installed`],
    // a package apt has no candidate for fails at plan (check) time; dpkg's leftover config files do not make one
    ['dummy-config-files', [DUMMY], {}, 'fail', `no such package: apt has no installation candidate for ${DUMMY}`],
    ['installed-mix', ['nginx', 'nosuchpkg-muster'], {}, 'fail', 'no such package: apt has no installation candidate for nosuchpkg-muster (a misspelt name, or the package lists need an update)'],
    // pinned: apt refuses a version it lacks at apply; no candidate is read
    ['installed-mix', ['nosuchpkg-muster'], { version: '1.0' }, 'change', 'install nosuchpkg-muster 1.0'],
    ['dummy-unpacked', [DUMMY], {}, 'change', `install ${DUMMY} (dpkg: unpacked)`],
    ['dummy-half-configured', [DUMMY], {}, 'change', `install ${DUMMY} (dpkg: half-configured)`],
    ['dummy-half-configured', [DUMMY], { state: 'absent' }, 'change', `remove ${DUMMY}`],
    ['dummy-installed', [DUMMY], {}, 'ok', `${DUMMY} 1.0-1`],
    ['installed-mix', ['curl'], { version: curl }, 'ok', `curl ${curl}`],
    ['installed-mix', ['curl'], { version: '7.88.1-10+deb12u5' }, 'change', `install curl 7.88.1-10+deb12u5 (has ${curl})`],
    ['installed-mix', ['nginx'], { version: '1.22.1-9+deb12u9' }, 'change', 'install nginx 1.22.1-9+deb12u9'],
    ['web-01-provisioned', ['nginx', 'mariadb-server', 'nodejs'], {}, 'ok', ['nginx', 'mariadb-server', 'nodejs'].map((n) => `${n} ${v('web-01-provisioned', n)}`).join(', ')],
    ['web-01-provisioned', ['nginx', 'haproxy'], {}, 'change', 'install haproxy'],
    ['web-01-provisioned', ['nginx'], { state: 'absent' }, 'change', 'remove nginx'],
  ]
  for (const [fixture, names, opts, kind, text] of table) {
    it(`${fixture}: apt(${names.join(',')}, ${JSON.stringify(opts)}) -> ${kind} "${text}"`, () => {
      if (kind === 'fail') return void expect(() => planOf(apt(names, opts), observed(names, fixture, false, opts))).to.throw(text)
      const p = planOf(apt(names, opts), observed(names, fixture, false, opts))
      expect(p.kind).to.equal(kind)
      if (p.kind === 'change') expect(p.summary).to.equal(text)
      if (p.kind === 'ok') expect(p.detail).to.equal(text)
    })
  }

  // apt-candidate/mix: libc6 current; curl upgradable where the recording's host had an update waiting
  // (the Debian 12 controller did; the Debian 13 lab host, fresh from the mirror, had none)
  const c = cand('curl') as { installed: string; candidate: string }
  const curlLatest: ['ok' | 'change', string] = c.installed === c.candidate ? ['ok', `curl ${c.installed}`] : ['change', `upgrade curl ${c.installed} -> ${c.candidate}`]
  const latest: [string[], 'ok' | 'change', string][] = [
    [['libc6'], 'ok', `libc6 ${(cand('libc6') as { installed: string }).installed}`],
    [['curl'], ...curlLatest],
    [['nginx', 'curl', 'libc6'], 'change', c.installed === c.candidate ? 'install nginx' : `install nginx; ${curlLatest[1]}`],
  ]
  for (const [names, kind, text] of latest) {
    it(`latest: apt(${names.join(',')}) against apt-cache policy -> ${kind} "${text}"`, () => {
      const r = apt(names, { state: 'latest' })
      const p = planOf(r, observed(names, 'installed-mix', true))
      expect(p.kind).to.equal(kind)
      if (p.kind === 'change') expect(p.summary).to.equal(text)
      if (p.kind === 'ok') expect(p.detail).to.equal(text)
    })
  }

  it('after an aptUpdate that would run, a name the current lists lack is planned as an install, not failed (check mode)', () => {
    const p = planOf(apt('nosuchpkg-muster'), { 'pkg:nosuchpkg-muster': { state: 'not-installed' }, 'avail:nosuchpkg-muster': { state: 'lists-refreshing' } })
    expect(p).to.include({ kind: 'change', summary: 'install nosuchpkg-muster' })
  })

  it('latest of a package apt does not know fails at plan time, naming it', () => {
    const r = apt('nosuchpkg-muster', { state: 'latest' })
    expect(() => planOf(r, observed(['nosuchpkg-muster'], 'installed-mix', true))).to.throw(/no installation candidate for nosuchpkg-muster/)
  })

  it('`latest` reads the candidate; `present` asks apt only about packages not installed (apt-installable); an install reads its companions in the same dpkg-query', () => {
    // base-files: the release, for the package table's edition when apt cannot say the version yet
    expect(Object.keys(apt('nginx').probe)).to.deep.equal(['pkg:nginx', 'avail:nginx', 'pkg:nginx-common', 'pkg:base-files'])
    expect(Object.keys(apt('nginx', { state: 'latest' }).probe)).to.deep.equal(['pkg:nginx', 'cand:nginx', 'pkg:nginx-common', 'pkg:base-files'])
    expect(Object.keys(apt('nginx', { state: 'absent' }).probe)).to.deep.equal(['pkg:nginx'])
    expect(Object.keys(apt('curl').probe)).to.deep.equal(['pkg:curl', 'avail:curl'])
    // a companion named in the list is read once
    expect(Object.keys(apt(['mariadb-server', 'mariadb-client']).probe)).to.deep.equal([
      'pkg:mariadb-server',
      'avail:mariadb-server',
      'pkg:mariadb-client',
      'avail:mariadb-client',
      'pkg:mariadb-server-core',
      'pkg:mariadb-client-core',
      'pkg:mariadb-common',
      'pkg:mysql-common',
      'pkg:base-files',
    ])
  })

  it('nginx installed again beside the nginx-common it left: nothing of nginx-common is predicted again (not its default site)', () => {
    const removed = { ...BASE_FILES, 'pkg:nginx': { state: 'not-installed' }, 'avail:nginx': installable('nginx'), 'pkg:nginx-common': { state: 'installed', version: '1.22.1-9+deb12u9', arch: 'all', held: false } }
    const p = planOf(apt('nginx'), removed)
    if (p.kind !== 'change') throw new Error('expected a change')
    expect(p.summary).to.equal('install nginx')
    const exact = byKey(p.predicts ?? [])
    expect(exact.has('path /etc/nginx/sites-enabled/default'), 'default site').to.equal(false)
    expect(exact.has('path /etc/nginx/nginx.conf'), 'a conffile of the companion').to.equal(false)
    expect(exact.has('apt-package nginx-common')).to.equal(false)
    // nginx's own: its binary, and its unit started by its postinst
    expect(exact.get('path /usr/sbin/nginx')).to.deep.include({ type: 'file' })
    expect(exact.get('systemd-unit nginx.service')).to.include({ activeState: 'active', unitFileState: 'enabled' })
    // a companion left in config-files keeps its conffiles (not their default content), and its
    // postinst, configuring over an earlier install, does not make the default site again
    const rc = planOf(apt('nginx'), { ...removed, 'pkg:nginx-common': { state: 'config-files', version: '1.22.1-9+deb12u9' } })
    if (rc.kind !== 'change') throw new Error('expected a change')
    const rcExact = byKey(rc.predicts ?? [])
    expect(isUnknown(rcExact.get('path /etc/nginx/nginx.conf'))).to.equal(true)
    expect(rcExact.has('path /etc/nginx/sites-enabled/default')).to.equal(false)
    expect(rcExact.get('path /etc/nginx/sites-available')).to.deep.include({ type: 'directory' })
    // on a bare host, nginx-common's first install does make it
    const bare = planOf(apt('nginx'), { ...BASE_FILES, 'pkg:nginx': { state: 'not-installed' }, 'avail:nginx': installable('nginx'), 'pkg:nginx-common': { state: 'not-installed' } })
    if (bare.kind !== 'change') throw new Error('expected a change')
    expect(byKey(bare.predicts ?? []).get('path /etc/nginx/sites-enabled/default')).to.deep.include({ type: 'symlink' })
  })

  it('installs every missing package in ONE apt-get call, finishing an interrupted dpkg first', async () => {
    const p = planOf(apt(['nginx', 'curl', 'haproxy']), observed(['nginx', 'curl', 'haproxy'], 'web-01-bare'))
    const ran = await commandsOf(p)
    expect(ran).to.have.length(1)
    const [finish, install] = ran[0]!.command.split('\n')
    expect(finish).to.match(/^if \[ -n "\$\(ls -A \/var\/lib\/dpkg\/updates 2>\/dev\/null\)" \]; then .*dpkg --force-confdef --force-confold --configure -a; fi$/)
    expect(install).to.equal(`${APT_GET} install nginx haproxy`)
  })

  it('removes with apt-get remove, recommends and pins as asked', async () => {
    const rm = await commandsOf(planOf(apt('curl', { state: 'absent' }), observed(['curl'], 'web-01-bare', false, { state: 'absent' })))
    expect(rm[0]!.command.split('\n')[1]).to.equal(`${APT_GET} remove curl`)
    const norec = await commandsOf(planOf(apt('nginx', { installRecommends: false }), observed(['nginx'], 'web-01-bare')))
    expect(norec[0]!.command.split('\n')[1]).to.equal(`${APT_GET} --no-install-recommends install nginx`)
    const pin = await commandsOf(planOf(apt('curl', { version: '7.88.1-10+deb12u5' }), observed(['curl'], 'installed-mix', false, { version: '7.88.1-10+deb12u5' })))
    expect(pin[0]!.command.split('\n')[1]).to.equal(`${APT_GET} --allow-downgrades install curl=7.88.1-10+deb12u5`)
  })

  it('predicts what the package brings: its state, companions, config, unit (table)', () => {
    const p = planOf(apt('nginx'), observed(['nginx'], 'web-01-bare'))
    if (p.kind !== 'change') throw new Error('expected a change')
    const exact = byKey(p.predicts ?? [])
    expect(exact.get('apt-package nginx')).to.deep.equal({ state: 'installed', version: null, arch: null, held: false })
    expect(exact.get('apt-package nginx-common')).to.deep.include({ state: 'installed' })
    // base-files, read for the edition, stays as probed: unpredicted, every later apt() would read it unknown
    expect(exact.get('apt-package base-files')).to.deep.equal(observed(['nginx'], 'web-01-bare')['pkg:base-files'])
    // the edition of the candidate each release's recording has (nginx 1.22 on Debian 12, 1.26 on 13)
    expect(exact.get('path /etc/nginx/nginx.conf')).to.deep.include({ type: 'file', mode: '0644', size: fixtureRelease() === 'debian12' ? 1446 : 1545 })
    expect(exact.get('path /etc/nginx/sites-enabled/default')).to.deep.include({ type: 'symlink', target: '/etc/nginx/sites-available/default' })
    expect(exact.get('path /var/www/html')).to.deep.include({ type: 'directory' })
    expect(exact.get('path /usr/sbin/nginx')).to.deep.include({ type: 'file', mode: '0755' })
    const unit = exact.get('systemd-unit nginx.service') as UnitState
    expect(unit).to.include({ activeState: 'active', unitFileState: 'enabled', loadState: 'loaded' })
  })

  it('predicts a system user and group for packages that create one', () => {
    const p = planOf(apt('haproxy'), observed(['haproxy'], 'web-01-bare'))
    if (p.kind !== 'change') throw new Error('expected a change')
    const exact = byKey(p.predicts ?? [])
    expect(exact.get('user haproxy')).to.deep.include({ exists: true, home: '/var/lib/haproxy', shell: '/usr/sbin/nologin', group: 'haproxy' })
    expect(exact.get('group haproxy')).to.deep.include({ exists: true })
  })

  it('a package outside the table makes its /etc tree and unit unknown, never guessed', () => {
    const r = apt('redis-server')
    const p = planOf(r, { 'pkg:redis-server': { state: 'not-installed' }, 'avail:redis-server': { state: 'missing', candidate: '5:7.0.15-1~deb12u1' } })
    if (p.kind !== 'change') throw new Error('expected a change')
    const prefixes = (p.predicts ?? []).filter((x) => !('query' in x)).map((x) => ('prefix' in x ? x.prefix : ''))
    expect(prefixes).to.include.members(['/etc/redis-server/', '/etc/redis/'])
    const unit = byKey(p.predicts ?? []).get('systemd-unit redis-server.service')
    expect(isUnknown(unit)).to.equal(true)
  })

  it('conffiles kept from an earlier install are not predicted at their default content', () => {
    const p = planOf(apt('haproxy'), { ...BASE_FILES, 'pkg:haproxy': { state: 'config-files', version: '2.6.12-1+deb12u4' }, 'avail:haproxy': installable('haproxy') })
    if (p.kind !== 'change') throw new Error('expected a change')
    const exact = byKey(p.predicts ?? [])
    expect(isUnknown(exact.get('path /etc/haproxy/haproxy.cfg'))).to.equal(true)
    expect(exact.get('path /usr/sbin/haproxy')).to.deep.include({ type: 'file' })
  })

  it('removal predicts the package gone with its binary and unit file', () => {
    const p = planOf(apt('curl', { state: 'absent' }), observed(['curl'], 'web-01-bare', false, { state: 'absent' }))
    if (p.kind !== 'change') throw new Error('expected a change')
    expect(byKey(p.predicts ?? []).get('apt-package curl')).to.deep.equal({ state: 'config-files', version: (pkg('web-01-bare', 'curl') as { version: string }).version })
  })

  it('refuses bad input when the playbook loads', () => {
    expect(() => apt([])).to.throw(/no package named/)
    expect(() => apt(['a1', 'a1'])).to.throw(/named twice/)
    expect(() => apt(['nginx', 'curl'], { version: '1' })).to.throw(/a version pins one package/)
    expect(() => apt('nginx;reboot')).to.throw(/not a Debian package name/)
    expect(apt(['nginx', 'haproxy']).id).to.equal('apt:nginx,haproxy')
  })
})

function byKey(preds: readonly Prediction[]): Map<string, unknown> {
  const m = new Map<string, unknown>()
  for (const p of preds) if ('query' in p) m.set(`${p.query.kind.name} ${p.query.key}`, p.value)
  return m
}
