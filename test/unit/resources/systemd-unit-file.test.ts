import { expect } from 'chai'
import { systemdUnitFile } from '../../../src/resources/systemd-unit-file.ts'
import { service } from '../../../src/resources/service.ts'
import { sha256 } from '../../../src/resources/file.ts'
import { systemdUnit, systemdUnitFact, type UnitState } from '../../../src/facts/systemd-unit.ts'
import { pathState, type PathState } from '../../../src/facts/path.ts'
import { FactCache } from '../../../src/engine/fact-cache.ts'
import { missingUnit } from '../../../src/resources/package-provides.ts'
import { fixtureValue, planOf, commandsOf } from '../../support/system-probe-fixture.ts'
import { asChange, predicted } from './file-family.support.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

const UNIT = '[Unit]\nDescription=demo\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n'
const PATH = '/etc/systemd/system/demo.service'
const running = (): UnitState => fixtureValue(systemdUnitFact, 'web-01-provisioned', 'nginx.service')
const fileAt = (content: string, mode = '0644'): PathState => ({ type: 'file', mode, owner: 'root', group: 'root', size: content.length, mtime: 1, sha256: sha256(content) })

forEachRelease('systemdUnitFile', () => {
  it('is a file at /etc/systemd/system/<unit>, mode 0644, that also reads the unit (one systemctl show with the service after it)', () => {
    const r = systemdUnitFile('demo', { content: UNIT })
    expect(r.id).to.equal(`systemd-unit-file:${PATH}`)
    expect(r.type).to.equal('systemd-unit-file')
    expect(Object.values(r.probe).map((q) => `${q.kind.name} ${q.key}`)).to.deep.equal([`path ${PATH}`, 'systemd-unit demo.service'])
    expect(systemdUnitFile('demo.service', { content: UNIT, path: '/lib/systemd/system/demo.service' }).id).to.equal('systemd-unit-file:/lib/systemd/system/demo.service')
  })

  it('on a host without the unit: create, then daemon-reload; predicts a loaded, stopped, disabled unit', async () => {
    const c = asChange(planOf(systemdUnitFile('demo', { content: UNIT }), { state: { type: 'absent' }, unit: missingUnit('demo.service') }))
    expect(c.summary).to.equal('create')
    expect(predicted(c, systemdUnit('demo'))).to.deep.include({ loadState: 'loaded', activeState: 'inactive', unitFileState: 'disabled' })
    expect(predicted(c, pathState(PATH))).to.deep.include({ type: 'file', mode: '0644', sha256: sha256(UNIT) })
    const ran = await commandsOf(c)
    expect(ran).to.have.length(2)
    expect(ran[0]!.command).to.include('mv -fT -- "$tmp" "$t"')
    expect(ran[1]!.command).to.equal('systemctl daemon-reload')
  })

  it('a unit file without [Install] makes a static unit: nothing to enable', () => {
    const text = '[Service]\nExecStart=/bin/true\n'
    const c = asChange(planOf(systemdUnitFile('oneshot', { content: text }), { state: { type: 'absent' }, unit: missingUnit('oneshot.service') }))
    expect(predicted(c, systemdUnit('oneshot'))).to.deep.include({ unitFileState: 'static' })
  })

  it('check mode on a bare host: the service after it plans "enable and start", not a failure on an unknown unit', () => {
    const cache = new FactCache()
    cache.setAll(new Map<string, unknown>([[`path\u0000${PATH}`, { type: 'absent' }], ['systemd-unit\u0000demo.service', missingUnit('demo.service')]]))
    const file = systemdUnitFile('demo', { content: UNIT })
    const c = asChange(file.plan({ state: cache.get(pathState(PATH)), unit: cache.get(systemdUnit('demo')) } as never))
    cache.overlay(c.predicts ?? [])
    const svc = service('demo', { running: true, enabled: true })
    expect(asChange(svc.plan({ unit: cache.get(systemdUnit('demo')) } as never)).summary).to.equal('enable and start demo.service')
    // without the unit file's prediction the same plan fails, as apply would on a host without the unit
    expect(() => svc.plan({ unit: missingUnit('demo.service') } as never)).to.throw(/no such unit/)
  })

  it('new text for a known unit: the unit is predicted as it is (a restart is for notify to ask)', async () => {
    const c = asChange(planOf(systemdUnitFile('nginx', { content: UNIT }), { state: fileAt('old text\n'), unit: running() }))
    expect(c.summary).to.equal('content')
    expect(predicted(c, systemdUnit('nginx'))).to.deep.equal(running())
    expect((await commandsOf(c)).map((x) => x.command).at(-1)).to.equal('systemctl daemon-reload')
  })

  it('converged is ok; a mode drift is fixed with chmod alone (systemd has nothing to reload)', async () => {
    const r = systemdUnitFile('nginx', { content: UNIT })
    expect(planOf(r, { state: fileAt(UNIT), unit: running() }).kind).to.equal('ok')
    const c = asChange(planOf(r, { state: fileAt(UNIT, '0600'), unit: running() }))
    expect(c.summary).to.equal('mode 0600 -> 0644')
    expect((await commandsOf(c)).map((x) => x.command)).to.deep.equal(["chmod -- 0644 /etc/systemd/system/nginx.service"])
  })

  it('renders from a template like template() does', () => {
    const r = systemdUnitFile('app', {
      source: new URL('../../../roles/app/templates/app.service.ejs', import.meta.url),
      vars: { host: 'web-01', root: '/srv/app', user: 'app' },
    })
    const c = asChange(planOf(r, { state: { type: 'absent' }, unit: missingUnit('app.service') }))
    expect(String(c.diff)).to.include('+ExecStart=/usr/bin/node /srv/app/current/server.js')
    expect(predicted(c, systemdUnit('app'))).to.deep.include({ unitFileState: 'disabled' })
  })
})
