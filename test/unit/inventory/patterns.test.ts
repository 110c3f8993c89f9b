import { expect } from 'chai'
import { fileURLToPath } from 'node:url'
import { loadInventory } from '../../../src/inventory/load.ts'
import { PatternError, limitHosts, selectHosts } from '../../../src/inventory/patterns.ts'
import type { Inventory } from '../../../src/inventory/types.ts'
import { fromIni, text } from './helpers.ts'

const referenceFile = fileURLToPath(new URL('../../fixtures/inventory/reference.yml', import.meta.url))

// reference: web [web-01, web-02], lb [lb-01], db children primary [web-01], replicas [web-02, db-03]
const table: [pattern: string, hosts: string[]][] = [
  ['all', ['web-01', 'web-02', 'lb-01', 'db-03']],
  ['*', ['web-01', 'web-02', 'lb-01', 'db-03']],
  ['web', ['web-01', 'web-02']],
  ['db', ['web-01', 'web-02', 'db-03']],
  ['replicas', ['web-02', 'db-03']],
  ['db-03', ['db-03']],
  ['db-03:lb-01', ['lb-01', 'db-03']], // inventory order, not pattern order
  ['lb:primary', ['web-01', 'lb-01']],
  ['lb,primary', ['web-01', 'lb-01']],
  ['web:db', ['web-01', 'web-02', 'db-03']], // no duplicates
  ['web-*', ['web-01', 'web-02']],
  ['*-01', ['web-01', 'lb-01']],
  ['web-0[2-9]', ['web-02']],
  ['?b-01', ['lb-01']],
  ['rep*', ['web-02', 'db-03']], // a glob matches group names too
  ['db:!web', ['db-03']],
  ['!web:db', ['db-03']], // exclusions apply last, wherever written
  ['web:&replicas', ['web-02']],
  ['&replicas:web', ['web-02']],
  ['db:&web:!primary', ['web-02']],
  ['!lb', ['web-01', 'web-02', 'db-03']], // only exclusions: from all
  ['&db', ['web-01', 'web-02', 'db-03']],
  ['ungrouped', []],
  [' web , lb ', ['web-01', 'web-02', 'lb-01']],
]

const errors: [pattern: string, message: string][] = [
  ['web:x', "unknown host or group 'x' in pattern 'web:x'"],
  ['!dbs', "unknown host or group 'dbs' in pattern '!dbs'"],
  ['web:&nope', "unknown host or group 'nope'"],
  ['nomatch-*', "'nomatch-*' in pattern 'nomatch-*' matches no host or group"],
  ['', 'empty host pattern'],
  ['web::db', "empty term in host pattern 'web::db'"],
  ['web,!', 'empty term'],
]

describe('selectHosts', () => {
  let inv: Inventory
  before(async () => {
    inv = await loadInventory(referenceFile)
  })
  for (const [pattern, hosts] of table) {
    it(`'${pattern}' -> [${hosts.join(', ')}]`, () => expect(selectHosts(inv, pattern)).to.deep.equal(hosts))
  }
  for (const [pattern, message] of errors) {
    it(`'${pattern}' is an error: ${message}`, () => {
      expect(() => selectHosts(inv, pattern)).to.throw(PatternError, message)
    })
  }

  it('names IPv6 hosts when terms are separated by commas', () => {
    const v6 = fromIni(text`
      [v6]
      2001:db8::1
      [v4]
      10.0.0.1`)
    expect(selectHosts(v6, '2001:db8::1,10.0.0.1')).to.deep.equal(['2001:db8::1', '10.0.0.1'])
  })

  it('selects a host and a group of the same name together', () => {
    const same = fromIni('[web]\na\n[x]\nweb')
    expect(selectHosts(same, 'web')).to.deep.equal(['a', 'web'])
  })
})

describe('limitHosts', () => {
  let inv: Inventory
  before(async () => {
    inv = await loadInventory(referenceFile)
  })
  const table: [hosts: string[], limit: string, want: string[]][] = [
    [['web-01', 'web-02', 'db-03'], 'web', ['web-01', 'web-02']],
    [['web-01', 'web-02', 'db-03'], 'replicas:!db-03', ['web-02']],
    [['db-03', 'web-01'], 'all', ['db-03', 'web-01']], // keeps the play's order
    [['lb-01'], 'db', []],
  ]
  for (const [hosts, limit, want] of table) {
    it(`[${hosts.join(', ')}] limited to '${limit}' -> [${want.join(', ')}]`, () => {
      expect(limitHosts(inv, hosts, limit)).to.deep.equal(want)
    })
  }
  it('refuses a limit that names nothing', () => {
    expect(() => limitHosts(inv, ['web-01'], 'wbe')).to.throw(PatternError, "unknown host or group 'wbe'")
  })
})
