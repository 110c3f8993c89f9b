import { expect } from 'chai'
import { buildBatch, parseBatch } from '../../../src/engine/probe-batch.ts'
import { factId, type FactQuery } from '../../../src/contract/fact.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import { aptPackage } from '../../../src/facts/apt-package.ts'
import { aptCandidate } from '../../../src/facts/apt-candidate.ts'
import { userState } from '../../../src/facts/user.ts'
import { groupState } from '../../../src/facts/group.ts'
import { shell } from '../../../src/facts/shell.ts'

describe('system facts through the engine batch, on this Debian machine', () => {
  it('coalesce by kind into one script and parse back, one value per key', async () => {
    const queries: FactQuery<unknown>[] = [
      aptPackage('bash'),
      aptPackage('nosuchpkg-muster'),
      aptPackage('dpkg'),
      aptCandidate('bash'),
      userState('root'),
      userState('nosuch-muster'),
      groupState('root'),
      shell('echo one; exit 3'),
      shell('cat'), // must not eat the rest of the batch
      shell('echo two'),
    ]
    const batch = buildBatch(queries)
    // dpkg-query, getent passwd and getent group each run once for all their keys
    expect(batch.script.match(/dpkg-query -W/g)).to.have.length(1)
    expect(batch.script.match(/getent passwd/g)).to.have.length(1)
    const res = await new LocalConnection().exec('sh -s', { stdin: batch.script })
    const got = parseBatch(batch, res.stdout)
    const v = (q: FactQuery<unknown>): unknown => got.get(factId(q))
    expect(v(aptPackage('bash'))).to.deep.include({ state: 'installed' })
    expect(v(aptPackage('nosuchpkg-muster'))).to.deep.equal({ state: 'not-installed' })
    expect(v(aptCandidate('bash'))).to.have.property('installed').that.is.a('string')
    expect(v(userState('root'))).to.deep.include({ exists: true, uid: 0, home: '/root' })
    expect(v(userState('nosuch-muster'))).to.deep.equal({ exists: false })
    expect(v(groupState('root'))).to.deep.include({ exists: true, gid: 0 })
    expect(v(shell('echo one; exit 3'))).to.deep.equal({ code: 3, stdout: 'one\n' })
    expect(v(shell('cat'))).to.deep.equal({ code: 0, stdout: '' })
    expect(v(shell('echo two'))).to.deep.equal({ code: 0, stdout: 'two\n' })
  })
})
