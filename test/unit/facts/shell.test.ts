import { expect } from 'chai'
import { shell, shellFact } from '../../../src/facts/shell.ts'
import { parseFixture } from '../../support/system-probe-fixture.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'

describe('shell fact', () => {
  it('keeps each snippet in a section of its own, stdin closed', () => {
    expect(shellFact.coalesce).to.equal(false)
    expect(shellFact.script(['cat'])).to.equal('(\ncat\n) </dev/null')
  })
  it('gives exit code and stdout (recorded on Debian 12)', () => {
    expect(parseFixture(shellFact, 'test-false').get('test -e /nonexistent/muster')).to.deep.equal({ code: 1, stdout: '' })
    expect(parseFixture(shellFact, 'grep-found').get('grep -c "^root:" /etc/passwd')).to.deep.equal({ code: 0, stdout: '1\n' })
    const now = parseFixture(shellFact, 'date-epoch').get('date +%s')!
    expect(now.code).to.equal(0)
    expect(Number(now.stdout)).to.be.greaterThan(1.7e9)
  })
  it('a snippet that reads stdin cannot eat the rest of a batch', async () => {
    const conn = new LocalConnection()
    const res = await conn.exec('sh -s', { stdin: `${shellFact.script(['cat'])}\necho after\n` })
    expect(res.stdout).to.equal('after\n')
  })
  it('refuses an empty snippet', () => {
    expect(() => shell('  ')).to.throw(/non-empty/)
  })
})
