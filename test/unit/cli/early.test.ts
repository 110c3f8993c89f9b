import { expect } from 'chai'
import { parseEarly } from '../../../src/cli/early.ts'

describe('early start: the command line read before the CLI loads', () => {
  it('reads the selection of apply and check the way yargs does', () => {
    expect(parseEarly(['check', 'site.ts', '-i', 'inv.ts'])).to.deep.equal({ playbook: 'site.ts', inventory: 'inv.ts', acceptNewHostKeys: false, timeout: 10 })
    expect(parseEarly(['apply', '--inventory=inv.ts', 'site.ts', '--limit', 'web:&prod', '--shard', '1/3', '--timeout', '5', '--json', '-vv', '--accept-new-host-keys'])).to.deep.equal({
      playbook: 'site.ts',
      inventory: 'inv.ts',
      limit: 'web:&prod',
      shard: '1/3',
      acceptNewHostKeys: true,
      timeout: 5,
    })
    expect(parseEarly(['check', 'site.ts', '-i', 'inv.ts', '-l', '!db-03', '--no-typecheck', '--diff', '-f', '20', '--watch', '30'])).to.include({ limit: '!db-03' })
    expect(parseEarly(['apply', 'site.ts', '-i', 'inv.ts', '--check'])).to.include({ playbook: 'site.ts' })
    // arrays take the words after them, as yargs's do: the playbook must come before, or after another option
    expect(parseEarly(['check', 'site.ts', '-e', 'a=1', 'b=2', '-i', 'inv.ts', '-t', 'nginx', 'app', '--skip-tags', 'x'])).to.include({ playbook: 'site.ts', inventory: 'inv.ts' })
    expect(parseEarly(['check', '-e', '{not json', '-i', 'inv.ts', 'site.ts'])).to.include({ playbook: 'site.ts' })
  })

  it('declines whatever it cannot be sure of: yargs alone reads those, and the run connects as usual', () => {
    for (const argv of [
      ['lab', 'up'],
      ['check', 'site.ts'], // no inventory
      ['check', '-i', 'inv.ts'], // no playbook
      ['check', 'a.ts', 'b.ts', '-i', 'inv.ts'],
      ['check', '-i', 'inv.ts', '-e', 'x=1', 'site.ts'], // the array took the playbook: no playbook
      ['check', 'site.ts', '-i', 'inv.ts', '--extra-vars=x=1'],
      ['check', 'site.ts', '-i', 'inv.ts', '--rerun', 'failed'],
      ['check', 'site.ts', '-i', 'inv.ts', '--workers', '2'],
      ['check', 'site.ts', '-i', 'inv.ts', '--help'],
      ['check', 'site.ts', '-i', 'inv.ts', '-i', 'other.ts'], // given twice
      ['check', 'site.ts', '-i', 'inv.ts', '-jv'], // grouped short flags
      ['check', 'site.ts', '-i', 'inv.ts', '--timeout', 'soon'],
      ['check', 'site.ts', '-i'],
      ['check', '--', 'site.ts', '-i', 'inv.ts'],
      ['check', 'site.ts', '-i', 'inv.ts', '--json=true'],
    ]) {
      expect(parseEarly(argv), argv.join(' ')).to.equal(undefined)
    }
  })
})
