import { expect } from 'chai'
import { groupFact } from '../../../src/facts/group.ts'
import { parseFixture } from '../../support/system-probe-fixture.ts'

describe('group fact', () => {
  it('reads groups and members (recorded on Debian 12)', () => {
    const m = parseFixture(groupFact, 'mix')
    expect(m.get('root')).to.deep.equal({ exists: true, gid: 0, members: [] })
    expect(m.get('ssl-cert')).to.deep.equal({ exists: true, gid: 103, members: ['postgres'] })
    expect(m.get('www-data')).to.deep.equal({ exists: true, gid: 33, members: [] })
    expect(m.get('nosuch-muster')).to.deep.equal({ exists: false })
  })
  it('fails on getent errors other than "not found"', () => {
    expect(() => groupFact.parse('', ['x'], 127)).to.throw(/exited 127/)
  })
})
