import { expect } from 'chai'
import { systemdUnit, systemdUnitFact, unitEnablement, unitExists, unitName, unitRunning } from '../../../src/facts/systemd-unit.ts'
import { parseFixture, loadFixture } from '../../support/system-probe-fixture.ts'

describe('systemd-unit fact', () => {
  it('asks one systemctl show for every unit', () => {
    expect(systemdUnitFact.script(['ssh.service', 'getty@tty1.service'])).to.equal(
      'systemctl show --no-pager -p Id,LoadState,ActiveState,SubState,UnitFileState,ActiveEnterTimestampMonotonic,MainPID ssh.service getty@tty1.service',
    )
  })

  it('names units the way systemctl does', () => {
    expect(unitName('nginx')).to.equal('nginx.service')
    expect(unitName('ssh.socket')).to.equal('ssh.socket')
    expect(unitName('getty@tty1.service')).to.equal('getty@tty1.service')
    expect(unitName('php8.2-fpm')).to.equal('php8.2-fpm.service')
    expect(systemdUnit('nginx').key).to.equal('nginx.service')
    expect(() => unitName('a b')).to.throw(/not a systemd unit name/)
    expect(() => unitName('--all')).to.throw(/not a systemd unit name/)
  })

  it('pairs blocks with units in argument order (recorded on a bare lab host)', () => {
    const m = parseFixture(systemdUnitFact, 'web-01-mix')
    const ssh = m.get('ssh.service')!
    expect(ssh).to.include({ id: 'ssh.service', loadState: 'loaded', activeState: 'active', subState: 'running', unitFileState: 'enabled' })
    expect(ssh.mainPid).to.be.greaterThan(0)
    expect(ssh.activeEnterMonotonic).to.be.greaterThan(0)
    expect(unitRunning(ssh)).to.equal(true)
    expect(unitEnablement(ssh)).to.equal('enabled')

    const nginx = m.get('nginx.service')!
    expect(nginx).to.include({ id: 'nginx.service', loadState: 'not-found', activeState: 'inactive', unitFileState: '' })
    expect(unitExists(nginx)).to.equal(false)

    const getty = m.get('getty@tty1.service')!
    expect(getty).to.include({ loadState: 'masked', unitFileState: 'masked' })
    expect(unitEnablement(getty)).to.equal('masked')

    const debug = m.get('debug-shell.service')!
    expect(unitRunning(debug)).to.equal(false)
    expect(unitEnablement(debug)).to.equal('disabled')

    // an alias answers with the unit it names
    expect(m.get('sshd.service')).to.deep.equal(ssh)
    expect(unitEnablement(m.get('dpkg-db-backup.service')!)).to.equal('static')
  })

  it('single-unit recordings agree with the batched one', () => {
    for (const [name, key] of [['ssh-active', 'ssh.service'], ['not-found', 'nginx.service'], ['masked', 'getty@tty1.service'], ['stopped-disabled', 'debug-shell.service']]) {
      expect(parseFixture(systemdUnitFact, name!).get(key!)).to.deep.include({ id: key, loadState: parseFixture(systemdUnitFact, 'web-01-mix').get(key!)!.loadState })
    }
  })

  it('derived fixtures say so', () => {
    expect(loadFixture('systemd-unit', 'nginx-failed').meta.derived).to.equal(true)
    expect(loadFixture('systemd-unit', 'web-01-provisioned').meta.derived).to.equal(undefined)
    expect(loadFixture('systemd-unit', 'ssh-active').meta.derived).to.equal(undefined)
  })

  it('fails when systemd does not answer for every unit', () => {
    // what `systemctl show` does where systemd is not PID 1 (this controller): nothing on stdout, exit 1
    expect(() => systemdUnitFact.parse('', ['ssh.service'], 1)).to.throw(/0 answers for 1 units \(is systemd running/)
    expect(() => systemdUnitFact.parse('Id=a.service\nLoadState=loaded', ['a.service', 'b.service'], 0)).to.throw(/1 answers for 2 units/)
  })
})
