import { expect } from 'chai'
import { userFact, userState } from '../../../src/facts/user.ts'
import { parseFixture } from '../../support/system-probe-fixture.ts'

describe('user fact', () => {
  it('reads users, their primary and supplementary groups (recorded on Debian 12)', () => {
    const m = parseFixture(userFact, 'mix')
    expect(m.get('root')).to.deep.equal({
      exists: true, uid: 0, gid: 0, group: 'root', gecos: 'root', home: '/root', shell: '/bin/bash', groups: [],
    })
    expect(m.get('postgres')).to.deep.include({ exists: true, uid: 101, group: 'postgres', home: '/var/lib/postgresql', groups: ['ssl-cert'] })
    expect(m.get('_apt')).to.deep.include({ exists: true, gid: 65534, group: 'nogroup', shell: '/usr/sbin/nologin' })
    expect(m.get('nosuch-muster')).to.deep.equal({ exists: false })
  })

  it('runs getent passwd for all users and the group database once', () => {
    const s = userFact.script(['root', 'www-data'])
    expect(s.split('\n')).to.deep.equal(['getent passwd root www-data', 'echo "#groups $?"', 'getent group'])
  })

  it('refuses names useradd would refuse', () => {
    expect(() => userState('-rf')).to.throw(/not a valid user name/)
    expect(() => userState('a:b')).to.throw(/not a valid user name/)
    expect(() => userState('a b')).to.throw(/not a valid user name/)
  })

  it('fails on output without its group section, or a failing getent', () => {
    expect(() => userFact.parse('root:x:0:0::/root:/bin/sh', ['root'], 0)).to.throw(/no group section/)
    expect(() => userFact.parse('#groups 1\n', ['root'], 0)).to.throw(/getent passwd exited 1/)
  })
})
